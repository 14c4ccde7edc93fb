#!/usr/bin/env bash
# Regenerates Tests/Fixtures from independent implementations (pinned in requirements.txt).
# Not run by CI: CI compares against the committed fixtures. Usage: Tools/reference/run.sh [NAME.py …]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
py=$("$here/venv.sh")
export SURGERY_MODEL=${SURGERY_MODEL:-$HOME/.cache/surgery/models/SmolLM2-135M-Instruct.Q4_1.gguf}
export FIXTURES="$root/Tests/Fixtures"
export SHARED_DATA="$root/../shared/data"
scripts=("$@")
if ((${#scripts[@]} == 0)); then scripts=($(cd "$here" && ls [a-z]*.py)); fi
for s in "${scripts[@]}"; do
  echo "== $s" >&2
  (cd "$here" && "$py" "$s")
done
