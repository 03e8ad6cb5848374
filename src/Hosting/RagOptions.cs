using Microsoft.Extensions.Configuration;

namespace Rag.Hosting;

/// <summary>
/// Everything configurable, bound from the "Rag" configuration section (appsettings.json,
/// environment variables such as Rag__Models__Generator, or --Rag:Models:Generator=... arguments).
/// </summary>
public sealed class RagOptions
{
    public const string Section = "Rag";

    /// <summary>Folder for SQLite, vector index files and uploaded originals. RAG_DATA or --data override it.</summary>
    public string DataDirectory { get; set; } = "data";

    public StorageSettings Storage { get; set; } = new();
    public VectorSettings Vectors { get; set; } = new();
    public ModelSettings Models { get; set; } = new();
    public RemoteGeneratorSettings RemoteGenerator { get; set; } = new();
    public LimitSettings Limits { get; set; } = new();
    public WorkerSettings Worker { get; set; } = new();

    /// <summary>The "Rag" section, with RAG_DATA as the documented shortcut for Rag:DataDirectory.</summary>
    public static RagOptions Bind(IConfiguration configuration)
    {
        var options = new RagOptions();
        configuration.GetSection(Section).Bind(options);
        if (configuration[$"{Section}:DataDirectory"] is null && Environment.GetEnvironmentVariable("RAG_DATA") is { Length: > 0 } data)
            options.DataDirectory = data;
        return options;
    }

    /// <summary>The data folder as an absolute path.</summary>
    public string DataPath => Path.GetFullPath(DataDirectory);

    /// <summary>`--data DIR` (the documented shortcut) becomes the configuration key Rag:DataDirectory; other arguments pass through.</summary>
    public static string[] TranslateArguments(IReadOnlyList<string> args)
    {
        var result = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == "--data" && i + 1 < args.Count) result.Add(DataArgument(args[++i]));
            else if (args[i].StartsWith("--data=", StringComparison.Ordinal)) result.Add(DataArgument(args[i]["--data=".Length..]));
            else result.Add(args[i]);
        }
        return [.. result];
    }

    /// <summary>The command-line configuration argument that sets the data folder.</summary>
    public static string DataArgument(string directory) => $"--{Section}:DataDirectory={directory}";
}

public sealed class StorageSettings
{
    /// <summary>"sqlite" (embedded, the default) or "postgres".</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>Npgsql connection string when Provider is "postgres".</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Where uploaded originals live with postgres: "database" (the default; nothing shared between hosts) or "files".</summary>
    public string? Blobs { get; set; }

    /// <summary>The folder of Blobs = "files" (default &lt;DataDirectory&gt;/blobs); every process must mount the same one.</summary>
    public string? BlobDirectory { get; set; }
}

public sealed class VectorSettings
{
    /// <summary>"embedded" (files in the data folder, the default) or "qdrant".</summary>
    public string Provider { get; set; } = "embedded";
    public string? QdrantUrl { get; set; }
    public string? QdrantApiKey { get; set; }
    public string QdrantCollection { get; set; } = "rag_chunks";
    public bool QdrantOnDiskVectors { get; set; }
    /// <summary>Passed through at collection creation; unset lets Qdrant choose (one shard per node in a cluster).</summary>
    public int? QdrantShardNumber { get; set; }
    public int? QdrantReplicationFactor { get; set; }
}

public sealed class ModelSettings
{
    /// <summary>Hugging Face layout folders (config.json, model.safetensors, tokenizer files). Unset: BM25-only retrieval.</summary>
    public string? QuestionEncoder { get; set; }

    /// <summary>Defaults to the question encoder's folder when unset (a single shared bi-encoder).</summary>
    public string? ContextEncoder { get; set; }

    /// <summary>A decoder (GPT-2, Llama or Qwen2 family). Unset (and no remote generator): extractive answers.</summary>
    public string? Generator { get; set; }

    /// <summary>cpu, cuda or auto. Only the CPU backend exists today; cuda is refused with a clear error.</summary>
    public string Device { get; set; } = "auto";

    public int MaxNewTokens { get; set; } = 256;
    public float Temperature { get; set; }
}

public sealed class RemoteGeneratorSettings
{
    /// <summary>An OpenAI-compatible endpoint (vLLM, Ollama, OpenAI), e.g. http://localhost:11434/v1.</summary>
    public string? BaseUrl { get; set; }
    public string? ApiKey { get; set; }
    public string? Model { get; set; }
}

public sealed class LimitSettings
{
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    /// <summary>Requests per minute per API key; 0 disables rate limiting.</summary>
    public int RequestsPerMinute { get; set; } = 600;
}

public sealed class WorkerSettings
{
    /// <summary>Runs the ingest worker inside the Api process (embedded mode). Off when separate workers run.</summary>
    public bool Enabled { get; set; } = true;
    public int Concurrency { get; set; } = 2;

    /// <summary>A job whose worker stops renewing its lease this long is taken over (a crashed worker's job resumes).</summary>
    public double LeaseSeconds { get; set; } = 60;

    /// <summary>On SIGTERM, how long running jobs may take to finish before they are cancelled and released to the queue.</summary>
    public double ShutdownGraceSeconds { get; set; } = 20;

    /// <summary>Longest idle wait before looking at the queue again (enqueues wake the worker sooner).</summary>
    public double PollSeconds { get; set; } = 5;
}
