#!/usr/bin/env bash
# Install the system packages Inbox Triage's tests and demo need (Debian/Ubuntu).
#
#   bash tools/install_system_deps.sh          # everything the test suite needs
#   bash tools/install_system_deps.sh --qt     # only what the desktop app needs to open a window
#
# Idempotent: when every package is already installed it does nothing. It installs with apt-get
# when running as root or when sudo works without a password; otherwise (macOS, Windows, no root)
# it prints what is missing and exits 0, and the tests that need a missing server skip outside CI.
# Under CI=true a failed installation is an error.
set -euo pipefail

QT_PACKAGES=(
  libegl1 libgl1 libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 fonts-dejavu-core
  libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
  libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1
)
SERVER_PACKAGES=(dovecot-imapd postgresql isync xvfb imagemagick binutils)
# Binaries checked on systems without dpkg (nothing is installed there, only reported).
SERVER_BINARIES=(dovecot mbsync Xvfb convert as ld)

mode=all
case "${1:-}" in
  --qt) mode=qt ;;
  "" | --all) ;;
  *) echo "usage: $0 [--qt|--all]" >&2; exit 2 ;;
esac

say() { echo "install_system_deps: $*"; }

wanted=("${QT_PACKAGES[@]}")
if [[ $mode == all ]]; then
  wanted+=("${SERVER_PACKAGES[@]}")
fi

if [[ "$(uname -s)" != Linux ]] || ! command -v dpkg-query >/dev/null 2>&1; then
  missing_bins=()
  if [[ $mode == all ]]; then
    for bin in "${SERVER_BINARIES[@]}"; do
      command -v "$bin" >/dev/null 2>&1 || missing_bins+=("$bin")
    done
  fi
  if ((${#missing_bins[@]})); then
    say "not a Debian-like system; install these yourself or the tests needing them skip: ${missing_bins[*]}"
  fi
  exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
py=${PYTHON:-python3}
if command -v "$py" >/dev/null 2>&1 && ! "$py" -c "import ensurepip, venv" >/dev/null 2>&1; then
  missing+=(python3-venv)
fi

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
  sudo=(sudo -n)
else
  say "missing packages (no root, no passwordless sudo): ${missing[*]}"
  say "install them with: sudo apt-get install ${missing[*]}"
  say "until then the tests needing them skip (outside CI)"
  exit 0
fi

# The tests run their own PostgreSQL from initdb: do not let the package create (and start) a
# default cluster. postgresql-common reads this file when it is installed.
if [[ " ${missing[*]} " == *" postgresql "* ]] && [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
  "${sudo[@]}" mkdir -p /etc/postgresql-common
  echo "create_main_cluster = false" | "${sudo[@]}" tee /etc/postgresql-common/createcluster.conf >/dev/null
fi

say "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if "${sudo[@]}" apt-get update -qq </dev/null &&
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    "${missing[@]}" </dev/null; then
  say "done"
else
  if [[ "${CI:-}" == true ]]; then
    say "apt-get failed under CI" >&2
    exit 1
  fi
  say "apt-get failed; the tests needing ${missing[*]} will skip" >&2
fi
