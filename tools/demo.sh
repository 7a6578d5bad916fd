#!/usr/bin/env bash
# The demo command (README: `bash tools/demo.sh`): opens Inbox Triage on the embedded demo mailbox.
# On a fresh machine it first installs what the desktop needs: the Qt system libraries (only when
# missing) and a virtualenv in .venv with the project (no dev extras). Extra arguments go to
# `inbox-triage demo`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

python=${PYTHON:-python3}
venv=.venv

bash tools/install_system_deps.sh --qt
if [[ ! -x $venv/bin/python ]]; then
  "$python" -m venv "$venv"
fi
# Skip pip when pyproject.toml is unchanged since this script (or tools/test.sh, which installs a
# superset) last installed the project.
want=$("$venv/bin/python" -c 'import hashlib, sys
print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest(), sys.version.split()[0])')
have_demo=$(cat "$venv/.inbox-triage-demo-stamp" 2>/dev/null || true)
have_test=$(cat "$venv/.inbox-triage-install-stamp" 2>/dev/null || true)
if [[ $want != "$have_demo" && $want != "$have_test" ]]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip </dev/null
  "$venv/bin/python" -m pip install --quiet -e . </dev/null
  echo "$want" >"$venv/.inbox-triage-demo-stamp"
fi
exec "$venv/bin/inbox-triage" demo "$@"
