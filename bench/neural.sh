#!/usr/bin/env bash
# One run, side by side: our CPU engine vs PyTorch on a BERT-base encoder (batch 8 x 128) and a GPT-2-small decoder
# (64 new tokens after a 128-token prompt), same random weights and inputs; then peak memory loading a ~500 MB checkpoint.
# Prints "encoder time ratio" and "decoder time ratio" (ours / PyTorch, medians; each side at its best thread count).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${NEURAL_BENCH_DIR:-/tmp/neural-bench}"
ART="${NEURAL_BENCH_ARTIFACTS:-/tmp/art-neural-bench}"
dotnet build bench/Neural.Bench -c Release --artifacts-path "$ART" -v q -nologo >/dev/null
BENCH="$ART/bin/Neural.Bench/release/Neural.Bench.dll"
[ -f "$DIR/gpt2/model.safetensors" ] && [ -f "$DIR/bert/model.safetensors" ] || dotnet "$BENCH" prepare "$DIR"
/usr/bin/python3 bench/torch_bench.py "$DIR"
dotnet "$BENCH" run "$DIR"
dotnet "$BENCH" memory "$DIR"
