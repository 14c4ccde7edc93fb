#!/usr/bin/env bash
# Creates (once) the reference virtual environment outside the source tree and prints its python.
# Usage: PY=$(Tools/reference/venv.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${SURGERY_REFERENCE_VENV:-$HOME/.cache/surgery/reference-venv}
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --upgrade pip >&2
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt" >&2
  echo "$want" > "$stamp"
fi
echo "$venv/bin/python"
