#!/bin/sh
# Writes a Llama-2-7B-shaped test model with random weights — a sharded bf16 Hugging Face folder
# (32 layers, D 4096, F 11008, 32 heads of 128, vocab 32000, untied head; 13.5 GB in 4 shards, with
# model.safetensors.index.json, config.json, a byte-level BPE tokenizer.json) — for `Benchmarks big`.
# Streams tensor by tensor (a few MB of memory); deterministic; skips when OUT_DIR already has one.
#
# Usage: Tools/make-7b-shaped-model.sh [OUT_DIR]   (default ~/.cache/surgery/llama2-7b-shaped)
set -eu
OUT=${1:-$HOME/.cache/surgery/llama2-7b-shaped}
cd "$(dirname "$0")/.."
if [ -f "$OUT/config.json" ] && [ -f "$OUT/model.safetensors.index.json" ]; then
    echo "$OUT already holds the model; remove it to write it again"
    exit 0
fi
FLAGS="-c release -Xcc -march=native -Xswiftc -DSURGERY_FAST_KERNELS"
# shellcheck disable=SC2086
swift run $FLAGS Benchmarks make-7b-shaped "$OUT"
