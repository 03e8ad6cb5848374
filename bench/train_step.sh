#!/usr/bin/env bash
# One dual-encoder training step (issue 16), side by side on the same weights and token ids: our engine against
# PyTorch pinned to OpenBLAS (no ratio is printed against reference netlib BLAS). arctic-embed-xs as a shared tower,
# 32 questions + 32 passages x 256 tokens, dropout 0.1, in-batch cosine loss (temperature 0.05), backward, clipping and
# one AdamW update, 2 threads; prints "training step time ratio vs pytorch ...: X" (ours / theirs, medians of 5).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${NEURAL_BENCH_DIR:-/tmp/neural-bench}"
ART="${NEURAL_BENCH_ARTIFACTS:-/tmp/art-neural-bench}"
if ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q libopenblas0-pthread >/dev/null; else sudo apt-get install -y -q libopenblas0-pthread >/dev/null; fi
fi
dotnet build bench/Neural.Bench -c Release --artifacts-path "$ART" -v q -nologo >/dev/null
BENCH="$ART/bin/Neural.Bench/release/Neural.Bench.dll"
mkdir -p "$DIR"
[ -f "$DIR/arctic-train/model.safetensors" ] && [ -f "$DIR/train_inputs.json" ] || dotnet "$BENCH" train-prepare "$DIR"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines) force an older, slower kernel: unset for the reference alone.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/torch_train_step.py "$DIR"
dotnet "$BENCH" train-step "$DIR"
