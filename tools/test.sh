#!/usr/bin/env bash
# THE test command (README: `bash tools/test.sh`). On a fresh machine it installs everything and
# runs the whole suite: system packages, a virtualenv in .venv with the project and its dev
# extras, then ruff, mypy, import-linter and pytest, failing fast. Extra arguments go to pytest:
#
#   bash tools/test.sh                                   # everything
#   bash tools/test.sh tests/servers_selftest -x -q      # a subset
#
# Works from any directory, without stdin, under `set -euo pipefail`. `.ci/run` runs exactly this.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

phase_names=()
phase_secs=()
current_phase=""
phase_start=""
now() { date +%s.%N; }
elapsed_since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
summary() {
  local rc=$? i
  if [[ -n $current_phase ]]; then
    phase_names+=("$current_phase (failed, exit $rc)")
    phase_secs+=("$(elapsed_since "$phase_start")")
  fi
  if ((${#phase_names[@]})); then
    echo
    echo "== timing =="
    for i in "${!phase_names[@]}"; do
      printf '  %-28s %7.1f s\n' "${phase_names[$i]}" "${phase_secs[$i]}"
    done
  fi
  exit "$rc"
}
trap summary EXIT

run_phase() {
  local name=$1
  shift
  echo "== $name: $*"
  current_phase=$name
  phase_start=$(now)
  "$@"
  phase_names+=("$name")
  phase_secs+=("$(elapsed_since "$phase_start")")
  current_phase=""
}

python=${PYTHON:-python3}
venv=.venv
stamp=$venv/.inbox-triage-install-stamp

install_python() {
  if [[ ! -x $venv/bin/python ]]; then
    "$python" -m venv "$venv"
  fi
  local want have=""
  want=$("$venv/bin/python" -c 'import hashlib, sys
print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest(), sys.version.split()[0])')
  [[ -f $stamp ]] && have=$(<"$stamp")
  if [[ $want == "$have" ]]; then
    echo "pyproject.toml unchanged since the last install: skipping pip"
    return
  fi
  "$venv/bin/python" -m pip install --quiet --upgrade pip </dev/null
  "$venv/bin/python" -m pip install --quiet -e '.[dev]' </dev/null
  echo "$want" >"$stamp"
}

export QT_QPA_PLATFORM=offscreen
pytest_args=()
if [[ "${CI:-}" == true ]]; then
  pytest_args+=(-p no:cacheprovider)
fi

run_phase "system deps" bash tools/install_system_deps.sh
run_phase "python deps" install_python
run_phase "ruff" "$venv/bin/ruff" check .
run_phase "mypy" "$venv/bin/mypy"
run_phase "import-linter" "$venv/bin/lint-imports" --no-logo
run_phase "pytest" "$venv/bin/python" -m pytest "${pytest_args[@]}" "$@" </dev/null
