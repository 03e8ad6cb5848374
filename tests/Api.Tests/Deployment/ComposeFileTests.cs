using System.Diagnostics;

namespace Rag.Api.Tests.Deployment;

/// <summary>
/// docker-compose.yml starts on any Docker host (no GPU reservation), and docker-compose.gpu.yml adds one for
/// api and ingest. Checked on the configuration docker-compose resolves (anchors and merges applied).
/// </summary>
public sealed class ComposeFileTests
{
    static readonly string? Root = FindRoot();

    [SkippableFact]
    public async Task Default_file_reserves_no_gpu_device()
    {
        Skip.If(Root is null, "docker-compose.yml not found above the test binaries");
        var raw = await File.ReadAllTextAsync(Path.Combine(Root!, "docker-compose.yml"));
        Assert.DoesNotContain("devices:", raw, StringComparison.Ordinal);

        var resolved = await ConfigAsync("docker-compose.yml");
        Assert.DoesNotContain("devices:", resolved, StringComparison.Ordinal);
        Assert.DoesNotContain("nvidia", resolved, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Rag__Vectors__QdrantUrl: http://qdrant:6334", resolved, StringComparison.Ordinal); // Qdrant.Client speaks gRPC
    }

    [SkippableFact]
    public async Task Gpu_override_reserves_one_nvidia_gpu_for_api_and_ingest()
    {
        Skip.If(Root is null, "docker-compose.yml not found above the test binaries");
        var resolved = await ConfigAsync("docker-compose.yml", "docker-compose.gpu.yml");
        var services = Services(resolved);
        foreach (var service in new[] { "api", "ingest" })
        {
            Assert.Contains("driver: nvidia", services[service], StringComparison.Ordinal);
            Assert.Contains("- gpu", services[service], StringComparison.Ordinal);
        }
        Assert.DoesNotContain("nvidia", services["qdrant"], StringComparison.Ordinal);
        Assert.DoesNotContain("nvidia", services["postgres"], StringComparison.Ordinal);
    }

    /// <summary>`docker-compose config` of the files (validates them and prints the merged result).</summary>
    static async Task<string> ConfigAsync(params string[] files)
    {
        var docker = new[] { "/usr/bin/docker-compose", "/usr/local/bin/docker-compose" }.FirstOrDefault(File.Exists);
        Skip.If(docker is null, "docker-compose is not installed (Debian: apt-get install docker-compose)");
        var start = new ProcessStartInfo(docker!) { WorkingDirectory = Root!, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var f in files) { start.ArgumentList.Add("-f"); start.ArgumentList.Add(f); }
        start.ArgumentList.Add("config");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"docker-compose {string.Join(" ", start.ArgumentList)} failed: {await stderr}");
        return await stdout;
    }

    /// <summary>Each top-level service's block of the resolved YAML (two-space indented names under `services:`).</summary>
    static Dictionary<string, string> Services(string yaml)
    {
        var blocks = new Dictionary<string, string>();
        string? current = null;
        var inServices = false;
        var lines = new List<string>();
        foreach (var line in yaml.Split('\n'))
        {
            if (!line.StartsWith(' ') && line.Length > 0)
            {
                Flush();
                inServices = line.TrimEnd() == "services:";
                continue;
            }
            if (!inServices) continue;
            if (line.StartsWith("  ", StringComparison.Ordinal) && !line.StartsWith("   ", StringComparison.Ordinal) && line.TrimEnd().EndsWith(':'))
            {
                Flush();
                current = line.Trim().TrimEnd(':');
                continue;
            }
            lines.Add(line);
        }
        Flush();
        return blocks;

        void Flush()
        {
            if (current is not null) blocks[current] = string.Join('\n', lines);
            current = null;
            lines.Clear();
        }
    }

    static string? FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "docker-compose.yml")) && File.Exists(Path.Combine(dir.FullName, "Rag.sln")))
                return dir.FullName;
        return null;
    }
}
