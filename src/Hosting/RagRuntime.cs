using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Neural;
using Rag.Neural.Builtin;
using Rag.Neural.Tensors;
using Rag.Neural.Tensors.Cuda;
using Rag.Retriever;
using Rag.Retriever.Lexical;
using Rag.Retriever.Postgres;
using Rag.Retriever.Qdrant;
using Rag.Retriever.Vectors;
using Rag.Storage;
using Rag.Storage.Postgres;

namespace Rag.Hosting;

/// <summary>What a process does with the runtime, and so which models it loads.</summary>
public enum RuntimeRole
{
    /// <summary>The Api and the CLI: retrieval and answers (both encoders and the generator).</summary>
    Service,

    /// <summary>A standalone ingest worker: the context encoder only; no question encoder, no generator.</summary>
    IngestWorker,

    /// <summary>
    /// A CLI command beside a running service: the metadata store only. SQLite takes several processes; the
    /// embedded indexes belong to the service, so commands that need them go through it.
    /// </summary>
    Metadata,

    /// <summary>`rag models check`: the models only, no store and no index (so it runs beside a service too).</summary>
    Models,
}

/// <summary>
/// The service's long-lived parts (store, indexes, models), opened once at start so that a bad
/// configuration fails fast with one clear message instead of on the first request.
/// </summary>
public sealed class RagRuntime(IOptions<RagOptions> options, RuntimeRole role, ILogger<RagRuntime> logger) : IAsyncDisposable
{
    readonly RagOptions options = options.Value;
    Parts? parts;
    bool disposed;

    // Null where the role does not open that part (see RuntimeRole).
    sealed record Parts(
        IRagStore? Store,
        IVectorIndex? Vectors,
        ILexicalIndex? Lexical,
        ITextEncoderModel? QuestionEncoder,
        ITextEncoderModel? ContextEncoder,
        ITextGeneratorModel? Generator);

    readonly SemaphoreSlim opening = new(1, 1);

    // The host resolves every hosted service (the ingest worker among them) before starting any, so
    // the first resolution may come before RuntimeStarter runs: open then, once, at start-up (never
    // on a request path, and ASP.NET Core has no synchronisation context to deadlock on).
    Parts Opened => parts ?? OpenAtStartup();

    Parts OpenAtStartup()
    {
        InitializeAsync(CancellationToken.None).GetAwaiter().GetResult();
        return parts!;
    }

    public RagOptions Options => options;
    public RuntimeRole Role => role;
    public IRagStore Store => Opened.Store ?? throw NotOpened("the store");
    public IVectorIndex Vectors => Opened.Vectors ?? throw NotOpened("the vector index");
    public ILexicalIndex Lexical => Opened.Lexical ?? throw NotOpened("the BM25 index");

    InvalidOperationException NotOpened(string part) =>
        new($"This process ({role}) did not open {part}; a command that needs it goes through the running service.");
    public ITextEncoderModel? QuestionEncoder => Opened.QuestionEncoder;
    public ITextEncoderModel? ContextEncoder => Opened.ContextEncoder;
    public ITextGeneratorModel? Generator => Opened.Generator;

    /// <summary>The question encoder's display name ("arctic-embed-xs"); null when retrieval is BM25 only.</summary>
    public string? EncoderName => QuestionEncoder is null || options.Models.ActiveQuestionEncoder is not { } spec ? null : BuiltinEncoders.DisplayName(spec);

    /// <summary>"hybrid: arctic-embed-xs + BM25", or "BM25 only (no question encoder)".</summary>
    public string RetrievalDescription => RetrievalLabels.Describe(RetrievalMode.Hybrid, EncoderName);

    public async Task InitializeAsync(CancellationToken ct)
    {
        await opening.WaitAsync(ct);
        try
        {
            if (parts is null) await OpenAsync(ct);
        }
        finally
        {
            opening.Release();
        }
    }

    async Task OpenAsync(CancellationToken ct)
    {
        var data = options.DataPath;
        Directory.CreateDirectory(data);
        CheckDevice(options.Models.Device);

        // Whatever opened before a failure is closed again (a test, or a retrying supervisor, lives on).
        var opened = new List<object>();
        try
        {
            var (questionEncoder, contextEncoder) = role == RuntimeRole.Metadata ? (null, null) : LoadEncoders(options.Models, role);
            opened.AddRange(new object?[] { questionEncoder, contextEncoder }.OfType<object>().Distinct());
            var generator = role is RuntimeRole.Service or RuntimeRole.Models && options.Models.Generator is { Length: > 0 } dir
                ? Load(dir, "generator", NeuralModels.LoadGenerator)
                : null;
            if (generator is not null) opened.Add(generator);

            if (role == RuntimeRole.Models)
            {
                parts = new Parts(null, null, null, questionEncoder, contextEncoder, generator);
                return;
            }
            var store = await OpenStoreAsync(data, ct);
            opened.Add(store);
            if (role == RuntimeRole.Metadata)
            {
                parts = new Parts(store, null, null, null, null, null);
                return;
            }
            var vectors = OpenVectorIndex(data);
            opened.Add(vectors);
            if (vectors is QdrantVectorIndex qdrant) await qdrant.CheckReachableAsync(ct); // Qdrant down: fail at start, not on the first upload
            if (contextEncoder is not null) await vectors.EnsureReadyAsync(contextEncoder.Dimension, ct);
            var lexical = await OpenLexicalIndexAsync(store, data, ct);
            parts = new Parts(store, vectors, lexical, questionEncoder, contextEncoder, generator);
        }
        catch (Exception e)
        {
            foreach (var part in opened) await CloseAsync(part);
            // An index file held by another process is a configuration problem too: one line, not a stack trace.
            if (e is IOException) throw new InvalidOperationException(e.Message, e);
            throw;
        }
        var context = parts.ContextEncoder;
        logger.LogInformation("{Role}: data folder {Data}; store {Store}; vectors {Vectors}; encoder {Encoder}; generator {Generator}",
            role, data, options.Storage.Provider, options.Vectors.Provider,
            context is null ? "none (BM25 only)" : BuiltinEncoders.DisplayName(options.Models.ActiveContextEncoder!),
            role == RuntimeRole.IngestWorker ? "not needed"
                : parts.Generator?.Architecture ?? (options.RemoteGenerator.BaseUrl is null ? "none (extractive answers)" : "remote " + options.RemoteGenerator.BaseUrl));
    }

    static void CheckDevice(string device)
    {
        if (device.ToLowerInvariant() is not ("cpu" or "cuda" or "auto"))
            throw new InvalidOperationException($"Rag:Models:Device must be cpu, cuda or auto, not '{device}'.");
    }

    /// <summary>Where the encoders run: cuda insists on a GPU, auto takes one when this machine can run it, else the CPU.</summary>
    IBackend EncoderBackend(string device, bool tf32)
    {
        switch (device.ToLowerInvariant())
        {
            case "cpu": return CpuBackend.Instance;
            case "cuda":
                try { return CudaBackend.Shared(tf32); }
                catch (CudaException e) { throw new InvalidOperationException($"Rag:Models:Device is 'cuda' but the GPU cannot be used: {e.Message}. Use 'cpu' or 'auto'.", e); }
            default:
                if (CudaBackend.TryShared(out var reason, tf32) is { } gpu) return gpu;
                logger.LogInformation("Rag:Models:Device auto: encoders run on the CPU ({Reason})", reason);
                return CpuBackend.Instance;
        }
    }

    (ITextEncoderModel?, ITextEncoderModel?) LoadEncoders(ModelSettings models, RuntimeRole role)
    {
        if (models.ActiveQuestionEncoder is not { } questionSpec)
        {
            if (models.ActiveContextEncoder is not null)
                throw new InvalidOperationException("Rag:Models:ContextEncoder is set but Rag:Models:QuestionEncoder is none: set both (or only QuestionEncoder for a shared bi-encoder).");
            return (null, null);
        }
        var contextSpec = models.ActiveContextEncoder!;
        var shared = SameModel(contextSpec, questionSpec);
        var backend = EncoderBackend(models.Device, models.GpuTf32);
        if (backend is CudaBackend gpu) logger.LogInformation("Encoders run on {Gpu}", gpu.Description);
        ITextEncoderModel LoadOn(string spec) => NeuralModels.LoadEncoder(spec, backend);
        if (role == RuntimeRole.IngestWorker) // a worker embeds chunks only
            return (null, Load(contextSpec, "context encoder", LoadOn));
        var question = Load(questionSpec, "question encoder", LoadOn);
        var context = shared ? question : Load(contextSpec, "context encoder", LoadOn);
        if (context.Dimension != question.Dimension)
            throw new InvalidOperationException($"The question encoder ({question.Dimension}) and context encoder ({context.Dimension}) must embed to the same dimension.");
        return (question, context);
    }

    static bool SameModel(string a, string b) => BuiltinEncoders.IsBuiltin(a) || BuiltinEncoders.IsBuiltin(b)
        ? string.Equals(a, b, StringComparison.OrdinalIgnoreCase)
        : Path.GetFullPath(a) == Path.GetFullPath(b);

    /// <summary>A model from a setting: "builtin:NAME" or a folder (named in full in every error).</summary>
    static T Load<T>(string spec, string role, Func<string, T> load)
    {
        var shown = BuiltinEncoders.IsBuiltin(spec) ? spec : Path.GetFullPath(spec);
        if (!BuiltinEncoders.IsBuiltin(spec) && !Directory.Exists(spec))
            throw new InvalidOperationException($"The {role} folder '{shown}' does not exist (Rag:Models takes builtin:NAME, a model folder, or none).");
        try { return load(spec); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"Could not load the {role} from '{shown}': {e.Message}", e);
        }
    }

    async Task<IRagStore> OpenStoreAsync(string data, CancellationToken ct)
    {
        var storage = options.Storage;
        try
        {
            return await RagStores.OpenAsync(new StorageOptions
            {
                Provider = storage.Provider,
                DataDirectory = data,
                ConnectionString = storage.ConnectionString,
                Blobs = storage.Blobs,
                BlobDirectory = storage.BlobDirectory,
            }, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException and not InvalidOperationException)
        {
            throw new InvalidOperationException($"Could not open the {storage.Provider} store: {e.Message}", e);
        }
    }

    // BM25 lives with the store: files beside SQLite, tables in PostgreSQL (shared by every process in server mode).
    // In PostgreSQL it shares the store's pool, which the store clears when the server restarts.
    static async Task<ILexicalIndex> OpenLexicalIndexAsync(IRagStore store, string data, CancellationToken ct) => store is PostgresRagStore postgres
        ? new PostgresBm25Index(postgres.DataSource)
        : await Bm25Index.OpenAsync(Path.Combine(data, "bm25"), null, ct);

    IVectorIndex OpenVectorIndex(string data) => options.Vectors.Provider.ToLowerInvariant() switch
    {
        "embedded" => new EmbeddedVectorIndex(Path.Combine(data, "vectors")),
        "qdrant" => new QdrantVectorIndex(new QdrantOptions
        {
            Url = options.Vectors.QdrantUrl ?? throw new InvalidOperationException("Rag:Vectors:Provider is 'qdrant' but Rag:Vectors:QdrantUrl is not set."),
            ApiKey = options.Vectors.QdrantApiKey,
            Collection = options.Vectors.QdrantCollection,
            OnDiskVectors = options.Vectors.QdrantOnDiskVectors,
            ShardNumber = options.Vectors.QdrantShardNumber,
            ReplicationFactor = options.Vectors.QdrantReplicationFactor,
        }),
        var other => throw new InvalidOperationException($"Rag:Vectors:Provider must be 'embedded' or 'qdrant', not '{other}'."),
    };

    /// <summary>Readiness: the store answers, and Qdrant too when vectors live there.</summary>
    public async Task CheckHealthAsync(CancellationToken ct)
    {
        await Store.CheckHealthAsync(ct);
        if (Opened.Vectors is QdrantVectorIndex qdrant) await qdrant.CheckReachableAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (parts is null || disposed) return; // the host and a CLI command may both dispose it
        disposed = true;
        var all = new object?[] { parts.Store, parts.Vectors, parts.Lexical, parts.QuestionEncoder, parts.ContextEncoder, parts.Generator };
        foreach (var part in all.OfType<object>().Distinct()) await CloseAsync(part); // a shared bi-encoder is one model
    }

    static async ValueTask CloseAsync(object part)
    {
        if (part is IAsyncDisposable a) await a.DisposeAsync();
        else if (part is IDisposable d) d.Dispose();
    }
}
