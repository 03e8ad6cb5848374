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
. bench/neural-common.sh
[ -f "$DIR/gpt2/model.safetensors" ] && [ -f "$DIR/bert/model.safetensors" ] || dotnet "$BENCH" prepare "$DIR"
[ -f "$DIR/bert/model.onnx" ] || /usr/bin/python3 bench/export_onnx.py "$DIR"
dotnet "$BENCH" onnx "$DIR"
torch_reference bench/torch_bench.py "$DIR"
dotnet "$BENCH" run "$DIR"
dotnet "$BENCH" memory "$DIR"
