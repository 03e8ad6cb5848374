namespace Rag.Testing;

/// <summary>Finds ../shared/data (real public data sets and vocabularies) without copying it into the repo.</summary>
public static class SharedData
{
    /// <summary>The shared/data folder, searched upwards from the test binaries; null when absent.</summary>
    public static string? Root { get; } = Find();

    /// <summary>Path of a file under shared/data, or null when it is not there (tests then skip with the reason).</summary>
    public static string? File(string relativePath)
    {
        if (Root is null) return null;
        var path = Path.Combine(Root, relativePath);
        return System.IO.File.Exists(path) ? path : null;
    }

    public static string MissingReason(string relativePath) =>
        $"skipped: ../shared/data/{relativePath} is not present on this machine (set RAG_SHARED_DATA to its folder)";

    static string? Find()
    {
        var env = Environment.GetEnvironmentVariable("RAG_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(env)) return env;
        // Upwards from the test binaries, then from the working directory (binaries may live elsewhere with --artifacts-path).
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate)) return candidate;
            }
        return null;
    }
}

/// <summary>A temporary folder removed on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "rag-test-" + Guid.NewGuid().ToString("N"));

    public TempDir() => Directory.CreateDirectory(Path);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
