#!/usr/bin/env bash
# The CUDA backend on a GPU machine, side by side with PyTorch CUDA (Hugging Face BertModel) on the same random
# weights and token ids: parity against our CPU backend and against PyTorch, then
# "encoder time ratio vs pytorch-cuda <shape> fp32|tf32: X" (ours / PyTorch's, medians of 20 runs after 5 warm-ups).
# Needs an NVIDIA driver, NVRTC and cuBLAS 12 or 13 (on LD_LIBRARY_PATH, or PyTorch's nvidia-* wheels, found below),
# and python3 with CUDA torch and transformers. BENCH=path/to/Neural.Bench runs a published build (a GPU machine
# without .NET); otherwise the bench is built with dotnet.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${NEURAL_BENCH_DIR:-/tmp/cuda-bench}"
mkdir -p "$DIR"
if [ -n "${BENCH:-}" ]; then
  bench() { "$BENCH" "$@"; }
else
  ART="${NEURAL_BENCH_ARTIFACTS:-/tmp/art-neural-bench}"
  dotnet build bench/Neural.Bench -c Release --artifacts-path "$ART" -v q -nologo >/dev/null
  bench() { dotnet "$ART/bin/Neural.Bench/release/Neural.Bench.dll" "$@"; }
fi
. bench/cuda-env.sh
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader || true
[ -f "$DIR/cuda_inputs.json" ] || bench cuda-prepare "$DIR"
python3 bench/torch_cuda_bench.py "$DIR"
bench cuda-run "$DIR"
