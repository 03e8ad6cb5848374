# Sourced by bench/cuda.sh (and by hand before a GPU service run): puts NVRTC and cuBLAS on LD_LIBRARY_PATH for a
# machine whose CUDA libraries came with PyTorch's nvidia-* wheels rather than a toolkit (the driver's libcuda is
# on the system path already).
wheels=$(python3 - <<'PY'
import glob, os
try:
    import nvidia
    roots = list(nvidia.__path__)
except ImportError:
    roots = []
dirs = {os.path.dirname(p) for r in roots for pat in ("libcublas.so*", "libnvrtc.so*") for p in glob.glob(os.path.join(r, "**", pat), recursive=True)}
print(":".join(sorted(dirs)))
PY
)
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}${wheels}${CUDA_HOME:+:$CUDA_HOME/lib64}:/usr/local/cuda/lib64"
