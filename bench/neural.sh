#!/usr/bin/env bash
# One run, side by side, same weights and token ids:
#  1. our CPU engine against ONNX Runtime 1.31.1 (CPU EP, all graph optimisations, intra-op 1 and 2 threads, inter-op 1)
#     on BERT-base 8 x 128 (random weights, exported to ONNX by export_onnx.py) and the built-in encoders' shapes;
#     prints "encoder time ratio vs onnxruntime <shape> <threads>: X" and the worst as "encoder time ratio vs onnxruntime: X";
#  2. against PyTorch (BERT-base encoder 8 x 128 and a GPT-2-small decoder, 64 new tokens after a 128-token prompt),
#     pinned to OpenBLAS: no ratio is printed against reference netlib BLAS;
#  3. peak memory loading a ~500 MB checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${NEURAL_BENCH_DIR:-/tmp/neural-bench}"
ART="${NEURAL_BENCH_ARTIFACTS:-/tmp/art-neural-bench}"
# Debian's torch runs on whatever libblas.so.3 update-alternatives picks; OpenBLAS makes it a fair reference.
if ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q libopenblas0-pthread >/dev/null; else sudo apt-get install -y -q libopenblas0-pthread >/dev/null; fi
fi
dotnet build bench/Neural.Bench -c Release --artifacts-path "$ART" -v q -nologo >/dev/null
BENCH="$ART/bin/Neural.Bench/release/Neural.Bench.dll"
[ -f "$DIR/gpt2/model.safetensors" ] && [ -f "$DIR/bert/model.safetensors" ] || dotnet "$BENCH" prepare "$DIR"
[ -f "$DIR/bert/model.onnx" ] || /usr/bin/python3 bench/export_onnx.py "$DIR"
dotnet "$BENCH" onnx "$DIR"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines) force an older, slower kernel: unset for the reference alone.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 bench/torch_bench.py "$DIR"
dotnet "$BENCH" run "$DIR"
dotnet "$BENCH" memory "$DIR"
