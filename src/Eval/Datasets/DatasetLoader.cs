namespace Rag.Eval;

/// <summary>Opens a dataset from its spec: "squad:PATH", "jsonl:PATH" (corpus.jsonl beside it, or corpusPath) or "beir:DIR[#split]".</summary>
public static class DatasetLoader
{
    public static Task<EvalDataset> LoadAsync(string spec, string? corpusPath = null, CancellationToken ct = default)
    {
        var colon = spec.IndexOf(':');
        if (colon <= 0)
            throw new ArgumentException($"Dataset spec '{spec}' must be squad:PATH, jsonl:PATH or beir:DIR.", nameof(spec));
        var kind = spec[..colon].ToLowerInvariant();
        var path = spec[(colon + 1)..];
        if (path.Length == 0) throw new ArgumentException($"Dataset spec '{spec}' has no path.", nameof(spec));
        return kind switch
        {
            "squad" => File.Exists(path) ? SquadReader.ReadAsync(path, ct) : throw new FileNotFoundException($"SQuAD file not found: {path}", path),
            "jsonl" => File.Exists(path) ? JsonlReader.ReadAsync(path, corpusPath, ct) : throw new FileNotFoundException($"JSONL file not found: {path}", path),
            "beir" => LoadBeir(path, ct),
            _ => throw new ArgumentException($"Unknown dataset kind '{kind}' in '{spec}': use squad, jsonl or beir.", nameof(spec)),
        };
    }

    /// <summary>The file or folder a spec reads (a BEIR split suffix removed), as a full path; null for a malformed spec.</summary>
    public static string? PathOf(string spec)
    {
        var colon = spec.IndexOf(':');
        if (colon <= 0 || colon == spec.Length - 1) return null;
        var path = spec[(colon + 1)..];
        if (spec[..colon].Equals("beir", StringComparison.OrdinalIgnoreCase) && path.LastIndexOf('#') is var hash and > 0) path = path[..hash];
        try { return Path.GetFullPath(path); }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException) { return null; }
    }

    /// <summary>True when the spec reads only inside one of the folders (after resolving "..").</summary>
    public static bool IsWithin(string spec, IEnumerable<string> folders) =>
        PathOf(spec) is { } path && folders.Select(Path.GetFullPath).Any(folder =>
            path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + Path.DirectorySeparatorChar, StringComparison.Ordinal));

    static Task<EvalDataset> LoadBeir(string path, CancellationToken ct)
    {
        var hash = path.LastIndexOf('#');
        var (dir, split) = hash > 0 ? (path[..hash], path[(hash + 1)..]) : (path, "test");
        if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"BEIR folder not found: {dir}");
        return BeirReader.ReadAsync(dir, split, ct);
    }
}
