using System.Runtime.InteropServices;
using System.Text;

namespace Rag.Neural.Tensors.Cuda;

/// <summary>Why the CUDA backend cannot start or an op failed, with the call and the driver's error name.</summary>
public sealed class CudaException(string message) : Exception(message);

/// <summary>
/// The three NVIDIA libraries the backend calls, loaded at run time so that a build without CUDA still builds and runs:
/// the driver (libcuda: memory, modules, launches), NVRTC (compiles <see cref="CudaKernels"/>' source for the card in
/// hand) and cuBLAS (the matrix products). Each entry point is a function pointer read once from its library.
/// dlopen finds the libraries on the usual paths or LD_LIBRARY_PATH (a CUDA toolkit's lib64, or the nvidia-*
/// Python wheels' lib folders).
/// </summary>
internal static unsafe class CudaApi
{
    static readonly string[] DriverNames = ["libcuda.so.1", "libcuda.so", "nvcuda.dll"];
    static readonly string[] NvrtcNames = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so", "nvrtc64_130_0.dll", "nvrtc64_120_0.dll"];
    static readonly string[] CublasNames = ["libcublas.so.13", "libcublas.so.12", "libcublas.so", "cublas64_13.dll", "cublas64_12.dll"];

    // Driver API (cuda.h); the _v2 names are the 64-bit entry points.
    public static delegate* unmanaged<uint, int> cuInit;
    public static delegate* unmanaged<int*, int> cuDriverGetVersion;
    public static delegate* unmanaged<int*, int> cuDeviceGetCount;
    public static delegate* unmanaged<int*, int, int> cuDeviceGet;
    public static delegate* unmanaged<byte*, int, int, int> cuDeviceGetName;
    public static delegate* unmanaged<int*, int, int, int> cuDeviceGetAttribute;
    public static delegate* unmanaged<nint*, int, int> cuDevicePrimaryCtxRetain;
    public static delegate* unmanaged<nint, int> cuCtxSetCurrent;
    public static delegate* unmanaged<int> cuCtxSynchronize;
    public static delegate* unmanaged<ulong*, nuint, int> cuMemAlloc;
    public static delegate* unmanaged<ulong, int> cuMemFree;
    public static delegate* unmanaged<nuint*, nuint*, int> cuMemGetInfo;
    public static delegate* unmanaged<ulong, void*, nuint, int> cuMemcpyHtoD;
    public static delegate* unmanaged<void*, ulong, nuint, int> cuMemcpyDtoH;
    public static delegate* unmanaged<ulong, ulong, nuint, int> cuMemcpyDtoD;
    public static delegate* unmanaged<ulong, uint, nuint, int> cuMemsetD32;
    public static delegate* unmanaged<nint*, void*, int> cuModuleLoadData;
    public static delegate* unmanaged<nint*, nint, byte*, int> cuModuleGetFunction;
    public static delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> cuLaunchKernel;
    public static delegate* unmanaged<int, byte**, int> cuGetErrorName;

    // NVRTC (nvrtc.h).
    public static delegate* unmanaged<int*, int*, int> nvrtcVersion;
    public static delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int> nvrtcCreateProgram;
    public static delegate* unmanaged<nint, int, byte**, int> nvrtcCompileProgram;
    public static delegate* unmanaged<nint, nuint*, int> nvrtcGetProgramLogSize;
    public static delegate* unmanaged<nint, byte*, int> nvrtcGetProgramLog;
    public static delegate* unmanaged<nint, nuint*, int> nvrtcGetCUBINSize;
    public static delegate* unmanaged<nint, byte*, int> nvrtcGetCUBIN;
    public static delegate* unmanaged<nint*, int> nvrtcDestroyProgram;

    // cuBLAS (cublas_v2.h): column-major, alpha and beta read from host memory (the default pointer mode).
    public static delegate* unmanaged<nint*, int> cublasCreate;
    public static delegate* unmanaged<nint, int*, int> cublasGetVersion;
    public static delegate* unmanaged<nint, int, int> cublasSetMathMode;
    public static delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int> cublasSgemm;
    public static delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, long, ulong, int, long, float*, ulong, int, long, int, int> cublasSgemmStridedBatched;
    public static delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int, int> cublasSgemmBatched;

    public const int CublasOpN = 0, CublasOpT = 1;
    public const int CublasDefaultMath = 0, CublasTf32TensorOpMath = 3;
    public const int AttributeComputeCapabilityMajor = 75, AttributeComputeCapabilityMinor = 76;

    static readonly Lock Gate = new();
    static string? _loadError;
    static bool _loaded;

    /// <summary>Loads the three libraries once; a missing library or entry point is a <see cref="CudaException"/> saying which.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded) return;
            if (_loadError is not null) throw new CudaException(_loadError);
            try
            {
                Bind();
                _loaded = true;
            }
            catch (CudaException e)
            {
                _loadError = e.Message;
                throw;
            }
        }
    }

    static void Bind()
    {
        var driver = Load(DriverNames, "the NVIDIA driver (libcuda.so.1); is an NVIDIA GPU and its driver installed?");
        cuInit = (delegate* unmanaged<uint, int>)Export(driver, "cuInit");
        cuDriverGetVersion = (delegate* unmanaged<int*, int>)Export(driver, "cuDriverGetVersion");
        cuDeviceGetCount = (delegate* unmanaged<int*, int>)Export(driver, "cuDeviceGetCount");
        cuDeviceGet = (delegate* unmanaged<int*, int, int>)Export(driver, "cuDeviceGet");
        cuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)Export(driver, "cuDeviceGetName");
        cuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)Export(driver, "cuDeviceGetAttribute");
        cuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)Export(driver, "cuDevicePrimaryCtxRetain");
        cuCtxSetCurrent = (delegate* unmanaged<nint, int>)Export(driver, "cuCtxSetCurrent");
        cuCtxSynchronize = (delegate* unmanaged<int>)Export(driver, "cuCtxSynchronize");
        cuMemAlloc = (delegate* unmanaged<ulong*, nuint, int>)Export(driver, "cuMemAlloc_v2");
        cuMemFree = (delegate* unmanaged<ulong, int>)Export(driver, "cuMemFree_v2");
        cuMemGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)Export(driver, "cuMemGetInfo_v2");
        cuMemcpyHtoD = (delegate* unmanaged<ulong, void*, nuint, int>)Export(driver, "cuMemcpyHtoD_v2");
        cuMemcpyDtoH = (delegate* unmanaged<void*, ulong, nuint, int>)Export(driver, "cuMemcpyDtoH_v2");
        cuMemcpyDtoD = (delegate* unmanaged<ulong, ulong, nuint, int>)Export(driver, "cuMemcpyDtoD_v2");
        cuMemsetD32 = (delegate* unmanaged<ulong, uint, nuint, int>)Export(driver, "cuMemsetD32_v2");
        cuModuleLoadData = (delegate* unmanaged<nint*, void*, int>)Export(driver, "cuModuleLoadData");
        cuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)Export(driver, "cuModuleGetFunction");
        cuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)Export(driver, "cuLaunchKernel");
        cuGetErrorName = (delegate* unmanaged<int, byte**, int>)Export(driver, "cuGetErrorName");

        var nvrtc = Load(NvrtcNames, "NVRTC (libnvrtc.so.13 or .12), which compiles the backend's kernels: add the CUDA toolkit's lib64 (or the nvidia-cuda-nvrtc wheel's lib folder) to LD_LIBRARY_PATH");
        nvrtcVersion = (delegate* unmanaged<int*, int*, int>)Export(nvrtc, "nvrtcVersion");
        nvrtcCreateProgram = (delegate* unmanaged<nint*, byte*, byte*, int, byte**, byte**, int>)Export(nvrtc, "nvrtcCreateProgram");
        nvrtcCompileProgram = (delegate* unmanaged<nint, int, byte**, int>)Export(nvrtc, "nvrtcCompileProgram");
        nvrtcGetProgramLogSize = (delegate* unmanaged<nint, nuint*, int>)Export(nvrtc, "nvrtcGetProgramLogSize");
        nvrtcGetProgramLog = (delegate* unmanaged<nint, byte*, int>)Export(nvrtc, "nvrtcGetProgramLog");
        nvrtcGetCUBINSize = (delegate* unmanaged<nint, nuint*, int>)Export(nvrtc, "nvrtcGetCUBINSize");
        nvrtcGetCUBIN = (delegate* unmanaged<nint, byte*, int>)Export(nvrtc, "nvrtcGetCUBIN");
        nvrtcDestroyProgram = (delegate* unmanaged<nint*, int>)Export(nvrtc, "nvrtcDestroyProgram");

        var cublas = Load(CublasNames, "cuBLAS (libcublas.so.13 or .12): add the CUDA toolkit's lib64 (or the nvidia-cublas wheel's lib folder) to LD_LIBRARY_PATH");
        cublasCreate = (delegate* unmanaged<nint*, int>)Export(cublas, "cublasCreate_v2");
        cublasGetVersion = (delegate* unmanaged<nint, int*, int>)Export(cublas, "cublasGetVersion_v2");
        cublasSetMathMode = (delegate* unmanaged<nint, int, int>)Export(cublas, "cublasSetMathMode");
        cublasSgemm = (delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int>)Export(cublas, "cublasSgemm_v2");
        cublasSgemmStridedBatched = (delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, long, ulong, int, long, float*, ulong, int, long, int, int>)Export(cublas, "cublasSgemmStridedBatched");
        cublasSgemmBatched = (delegate* unmanaged<nint, int, int, int, int, int, float*, ulong, int, ulong, int, float*, ulong, int, int, int>)Export(cublas, "cublasSgemmBatched");
    }

    static nint Load(string[] names, string what)
    {
        foreach (var name in names)
            if (NativeLibrary.TryLoad(name, out var handle)) return handle;
        throw new CudaException($"cannot load {what} (tried {string.Join(", ", names)})");
    }

    static nint Export(nint library, string name) =>
        NativeLibrary.TryGetExport(library, name, out var fn) ? fn : throw new CudaException($"the loaded CUDA library has no entry point {name}; is it older than CUDA 12?");

    /// <summary>Throws with the driver's error name when a driver call did not return CUDA_SUCCESS.</summary>
    public static void Check(int result, string call)
    {
        if (result == 0) return;
        string name = $"error {result}";
        byte* text = null;
        if (cuGetErrorName is not null && cuGetErrorName(result, &text) == 0 && text is not null) name = Marshal.PtrToStringUTF8((nint)text) ?? name;
        throw new CudaException($"{call} failed: {name}");
    }

    public static void CheckNvrtc(int result, string call)
    {
        if (result != 0) throw new CudaException($"{call} failed: NVRTC error {result}");
    }

    public static void CheckCublas(int result, string call)
    {
        if (result != 0) throw new CudaException($"{call} failed: cuBLAS status {result}");
    }

    /// <summary>A NUL-terminated UTF-8 copy for the C APIs.</summary>
    public static byte[] Utf8z(string s) => Encoding.UTF8.GetBytes(s + "\0");
}
