# Sourced by bench/neural.sh and bench/train_step.sh: the pinned PyTorch reference and our Release build.
# Sets DIR (checkpoints and inputs), ART (build output) and BENCH (the Neural.Bench assembly).
DIR="${NEURAL_BENCH_DIR:-/tmp/neural-bench}"
ART="${NEURAL_BENCH_ARTIFACTS:-/tmp/art-neural-bench}"
# Debian's torch runs on whatever libblas.so.3 update-alternatives picks; OpenBLAS makes it a fair reference.
if ! dpkg -s libopenblas0-pthread >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -q libopenblas0-pthread >/dev/null; else sudo apt-get install -y -q libopenblas0-pthread >/dev/null; fi
fi
dotnet build bench/Neural.Bench -c Release --artifacts-path "$ART" -v q -nologo >/dev/null
BENCH="$ART/bin/Neural.Bench/release/Neural.Bench.dll"
mkdir -p "$DIR"
# OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines) force an older, slower kernel: unset for the reference alone.
torch_reference() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 "$@"; }
