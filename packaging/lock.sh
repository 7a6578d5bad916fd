#!/usr/bin/env bash
# Regenerate packaging/requirements-lock.txt: every run-time dependency of Inbox Triage plus
# PyInstaller (the `packaging` extra), pinned to one exact version each, with the sha256 of every
# wheel and sdist PyPI serves for that version, for Windows, macOS and Linux at once (a
# "universal" lock: platform-only packages carry an environment marker), for CPython 3.11.
#
# The release workflow installs from it with `pip install --require-hashes --no-deps`, so an
# installer is built from exactly these files. Run this after changing a dependency in
# pyproject.toml, review the diff, commit it:
#
#   bash packaging/lock.sh             # re-resolve (keeps current pins where they still fit)
#   bash packaging/lock.sh --upgrade   # move every pin to the newest allowed release
#
# Needs network access to PyPI. uv (pinned below) does the resolving; it is installed into a
# throwaway virtualenv, not into the project's.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

UV_VERSION=0.13.9
PYTHON_VERSION=3.11
python=${PYTHON:-python3}
tool_venv=$(mktemp -d "${TMPDIR:-/tmp}/inbox-triage-lock.XXXXXX")
trap 'rm -rf "$tool_venv"' EXIT

"$python" -m venv "$tool_venv"
"$tool_venv/bin/python" -m pip install --quiet "uv==$UV_VERSION" </dev/null

UV_INDEX_URL=${UV_INDEX_URL:-https://pypi.org/simple} \
UV_CUSTOM_COMPILE_COMMAND="bash packaging/lock.sh" \
  "$tool_venv/bin/uv" pip compile pyproject.toml \
    --extra packaging \
    --universal \
    --python-version "$PYTHON_VERSION" \
    --generate-hashes \
    --no-emit-index-url \
    --output-file packaging/requirements-lock.txt \
    "$@"

echo "wrote packaging/requirements-lock.txt ($(grep -c '==' packaging/requirements-lock.txt) pins)"
