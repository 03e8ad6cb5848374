using Microsoft.Extensions.Configuration;
using Rag.Neural.Builtin;

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
    public OcrSettings Ocr { get; set; } = new();
    public EvalSettings Eval { get; set; } = new();
    public TelemetrySettings Telemetry { get; set; } = new();

    /// <summary>Where HTTP eval runs may read datasets: Rag:Eval:DatasetFolders, else the data folder's datasets/ folder.</summary>
    public IReadOnlyList<string> EvalDatasetFolders =>
        Eval.DatasetFolders is { Length: > 0 } folders ? [.. folders.Select(Path.GetFullPath)] : [Path.Combine(DataPath, "datasets")];

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
    /// <summary>Qdrant's gRPC address (Qdrant.Client), e.g. http://qdrant:6334.</summary>
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
    /// <summary>
    /// "builtin:arctic-embed-xs" (the default), "builtin:all-MiniLM-L6-v2", a Hugging Face layout folder (config.json,
    /// model.safetensors, tokenizer files), or "none" for BM25-only retrieval.
    /// </summary>
    public string? QuestionEncoder { get; set; } = BuiltinEncoders.Default.Spec;

    /// <summary>Defaults to the question encoder when unset (a single shared bi-encoder); same forms as QuestionEncoder.</summary>
    public string? ContextEncoder { get; set; }

    /// <summary>The question encoder setting, or null when it says none (BM25 only).</summary>
    public string? ActiveQuestionEncoder => IsNone(QuestionEncoder) ? null : QuestionEncoder!.Trim();

    /// <summary>The context encoder: its own setting, else the question encoder's (null when that is none).</summary>
    public string? ActiveContextEncoder => IsNone(ContextEncoder) ? ActiveQuestionEncoder : ContextEncoder!.Trim();

    static bool IsNone(string? value) => string.IsNullOrWhiteSpace(value) || value.Trim().Equals("none", StringComparison.OrdinalIgnoreCase);

    /// <summary>A decoder (GPT-2, Llama or Qwen2 family). Unset (and no remote generator): extractive answers.</summary>
    public string? Generator { get; set; }

    /// <summary>Where the encoders run: cpu, cuda (an NVIDIA GPU, or a clear error) or auto (the GPU when one can be used). Generators run on the CPU.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>
    /// On a GPU, let cuBLAS take TF32 tensor cores for the encoders' products: 2.2-3.4x the throughput on large batches
    /// (bench/README.md), embeddings within cosine 0.9999999 of fp32, so an index need not be rebuilt. Off: fp32.
    /// </summary>
    public bool GpuTf32 { get; set; }

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

    /// <summary>Most characters of text one document may yield; a document over it ends failed, saying so.</summary>
    public int MaxExtractedChars { get; set; } = 64_000_000;

    /// <summary>Most attachments of one e-mail that become documents of their own; the rest are only named in the message.</summary>
    public int MaxAttachments { get; set; } = 50;

    /// <summary>Requests per minute per API key; 0 disables rate limiting.</summary>
    public int RequestsPerMinute { get; set; } = 600;

    /// <summary>Failed authentications per client address per minute before that address is refused (429); 0 disables.</summary>
    public int FailedAuthPerMinute { get; set; } = 20;
}

public sealed class EvalSettings
{
    /// <summary>
    /// Folders an eval started over HTTP may read its dataset from (an admin key names a server path, so it is confined);
    /// unset: DATA/datasets. The CLI on the service's own data folder reads what its user can read.
    /// </summary>
    public string[] DatasetFolders { get; set; } = [];
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

/// <summary>OCR of scanned PDF pages and of images, by Tesseract (Debian tesseract-ocr) run as a process.</summary>
public sealed class OcrSettings
{
    public bool Enabled { get; set; } = true;

    /// <summary>Tesseract languages, "+"-joined (deu+eng); each needs its tesseract-ocr-LANG package.</summary>
    public string Languages { get; set; } = "eng";

    /// <summary>Most pages one document may send to OCR; a document needing more fails, saying so.</summary>
    public int MaxPages { get; set; } = 100;

    /// <summary>Time to render and read one page or one image.</summary>
    public double PageTimeoutSeconds { get; set; } = 60;

    public int Dpi { get; set; } = 300;
}
