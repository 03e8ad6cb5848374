#!/usr/bin/env bash
# One dual-encoder training step (issue 16), side by side on the same weights and token ids: our engine against
# PyTorch pinned to OpenBLAS (no ratio is printed against reference netlib BLAS). arctic-embed-xs as a shared tower,
# 32 questions + 32 passages x 256 tokens, dropout 0.1, in-batch cosine loss (temperature 0.05), backward, clipping and
# one AdamW update, 2 threads; prints "training step time ratio vs pytorch ...: X" (ours / theirs, medians of 5).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/neural-common.sh
[ -f "$DIR/arctic-train/model.safetensors" ] && [ -f "$DIR/train_inputs.json" ] || dotnet "$BENCH" train-prepare "$DIR"
torch_reference bench/torch_train_step.py "$DIR"
dotnet "$BENCH" train-step "$DIR"
