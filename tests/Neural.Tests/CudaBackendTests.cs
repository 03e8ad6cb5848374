using Rag.Neural.Tensors;
using Rag.Neural.Tensors.Cuda;
using Rag.Testing;
using Xunit.Abstractions;

namespace Rag.Neural.Tests;

/// <summary>
/// The CUDA backend against the CPU reference on tiny random encoders. Where no GPU can be used (CI, this project's
/// machines) the comparisons report themselves skipped with the reason, and the one test that runs checks that the
/// reason is readable; bench/cuda.sh runs the same comparison on real shapes on a lent GPU machine.
/// </summary>
public class CudaBackendTests(ITestOutputHelper output)
{
    static CudaBackend Gpu()
    {
        var gpu = CudaBackend.TryShared(out var reason);
        Skip.If(gpu is null, $"skipped: no GPU can be used here ({reason})");
        return gpu!;
    }

    [SkippableTheory]
    [InlineData("sentence-transformer", 0, 3, 17)]   // mean pooling, normalised
    [InlineData("dpr-question", 0, 4, 9)]            // [CLS] pooling
    [InlineData("dpr-context", 16, 2, 33)]           // [CLS] then encode_proj
    public void Encoder_on_the_gpu_matches_the_cpu(string kind, int projection, int batch, int seq)
    {
        var gpu = Gpu();
        using var dir = new TempDir();
        TinyModels.WriteBertEncoder(dir.Path, hidden: 64, layers: 2, heads: 4, kind: kind, projectionDim: projection, seed: 5);
        var result = BackendComparison.CompareEncoders(dir.Path, CpuBackend.Instance, gpu, batch, seq);
        output.WriteLine($"{gpu.Description}: {kind} {result}");
        Assert.True(result.MaxHiddenError < 1e-5, result.ToString());
        Assert.True(result.MaxEmbeddingError < 1e-5, result.ToString());
    }

    [SkippableFact]
    public void Ops_that_bert_does_not_use_match_the_cpu_too()
    {
        var gpu = Gpu();
        var random = new Random(3);
        float[] Values(int n) => [.. Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        var a = Values(2 * 5 * 7); var b = Values(2 * 7 * 3); var s = Values(4 * 9);
        var cpuProduct = Tensor.Zeros(2, 5, 3); var cpuSoftmax = Tensor.Zeros(4, 9);
        CpuBackend.Instance.MatMul(Tensor.FromArray(a, 2, 5, 7), Tensor.FromArray(b, 2, 7, 3), cpuProduct);
        CpuBackend.Instance.Softmax(Tensor.FromArray(s, 4, 9), cpuSoftmax);
        var gpuProduct = gpu.Allocate(2, 5, 3); var gpuSoftmax = gpu.Allocate(4, 9);
        gpu.MatMul(gpu.Resident(Tensor.FromArray(a, 2, 5, 7)), gpu.Resident(Tensor.FromArray(b, 2, 7, 3)), gpuProduct);
        gpu.Softmax(gpu.Resident(Tensor.FromArray(s, 4, 9)), gpuSoftmax);
        var product = new float[gpuProduct.Length]; var softmax = new float[gpuSoftmax.Length];
        gpu.CopyToHost(gpuProduct, product);
        gpu.CopyToHost(gpuSoftmax, softmax);
        for (int i = 0; i < product.Length; i++) Assert.Equal(cpuProduct.Span[i], product[i], 1e-5f);
        for (int i = 0; i < softmax.Length; i++) Assert.Equal(cpuSoftmax.Span[i], softmax[i], 1e-6f);
    }

    [Fact]
    public void Without_a_usable_gpu_the_reason_names_what_is_missing()
    {
        if (CudaBackend.TryShared(out var reason) is { } gpu)
        {
            output.WriteLine($"a GPU is usable here: {gpu.Description}");
            Assert.Contains("sm_", gpu.Description);
            return;
        }
        output.WriteLine(reason);
        Assert.False(string.IsNullOrWhiteSpace(reason));
        Assert.Matches("libcuda|NVRTC|cuBLAS|CUDA device|cuInit|failed", reason!);
    }

    [SkippableFact]
    public void A_host_tensor_handed_to_a_gpu_op_is_refused_by_name()
    {
        var gpu = Gpu();
        var e = Assert.Throws<ArgumentException>(() => gpu.Gelu(Tensor.Zeros(4), gpu.Allocate(4)));
        Assert.Contains("host memory", e.Message);
    }

    [SkippableFact]
    public void Reading_a_gpu_tensor_as_a_span_says_how_to_read_it()
    {
        var gpu = Gpu();
        var e = Assert.Throws<InvalidOperationException>(() => gpu.Allocate(3).Span.ToArray());
        Assert.Contains("CopyToHost", e.Message);
    }
}
