using Rag.Api.Hosting;
using Rag.Neural.Tensors.Cuda;
using Rag.Testing;

namespace Rag.Api.Tests.Deployment;

/// <summary>Rag:Models:Device: a wrong value, or cuda where no GPU can be used, stops the start with one readable line.</summary>
public class DeviceSettingTests
{
    static async Task<InvalidOperationException> StartFails(string device)
    {
        using var data = new TempDir();
        var encoder = Path.Combine(data.Path, "encoder");
        TinyModels.WriteBertEncoder(encoder, kind: "sentence-transformer");
        await using var host = RagServiceExtensions.BuildRagServer(
            ["--urls", "http://127.0.0.1:0", $"--Rag:DataDirectory={data.Path}", $"--Rag:Models:QuestionEncoder={encoder}",
             $"--Rag:Models:Device={device}", "--Logging:LogLevel:Default=None"]);
        return await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());
    }

    [SkippableFact]
    public async Task Cuda_without_a_usable_gpu_refuses_to_start_and_says_why()
    {
        Skip.If(CudaBackend.TryShared(out _) is not null, "skipped: a GPU is usable here, so Device=cuda starts");
        var error = await StartFails("cuda");
        Assert.Contains("Rag:Models:Device is 'cuda' but the GPU cannot be used", error.Message);
        Assert.Matches("libcuda|NVRTC|cuBLAS|CUDA device|cuInit", error.Message);
        Assert.Contains("Use 'cpu' or 'auto'", error.Message);
    }

    [Fact]
    public async Task An_unknown_device_is_refused_with_the_values_it_takes()
    {
        var error = await StartFails("gpu");
        Assert.Contains("Rag:Models:Device must be cpu, cuda or auto, not 'gpu'", error.Message);
    }
}
