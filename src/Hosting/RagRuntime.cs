using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Neural;
using Rag.Retriever;
using Rag.Retriever.Lexical;
using Rag.Retriever.Postgres;
using Rag.Retriever.Qdrant;
using Rag.Retriever.Vectors;
using Rag.Storage;

namespace Rag.Hosting;

/// <summary>What a process does with the runtime, and so which models it loads.</summary>
public enum RuntimeRole
{
    /// <summary>The Api and the CLI: retrieval and answers (both encoders and the generator).</summary>
    Service,

    /// <summary>A standalone ingest worker: the context encoder only; no question encoder, no generator.</summary>
    IngestWorker,
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

    sealed record Parts(
        IRagStore Store,
        IVectorIndex Vectors,
        ILexicalIndex Lexical,
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
    public IRagStore Store => Opened.Store;
    public IVectorIndex Vectors => Opened.Vectors;
    public ILexicalIndex Lexical => Opened.Lexical;
    public ITextEncoderModel? QuestionEncoder => Opened.QuestionEncoder;
    public ITextEncoderModel? ContextEncoder => Opened.ContextEncoder;
    public ITextGeneratorModel? Generator => Opened.Generator;

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
            var (questionEncoder, contextEncoder) = LoadEncoders(options.Models, role);
            opened.AddRange(new object?[] { questionEncoder, contextEncoder }.OfType<object>().Distinct());
            var generator = role == RuntimeRole.Service && options.Models.Generator is { Length: > 0 } dir
                ? Load(dir, "generator", NeuralModels.LoadGenerator)
                : null;
            if (generator is not null) opened.Add(generator);

            var store = await OpenStoreAsync(data, ct);
            opened.Add(store);
            var vectors = OpenVectorIndex(data);
            opened.Add(vectors);
            if (vectors is QdrantVectorIndex qdrant) await qdrant.CheckReachableAsync(ct); // Qdrant down: fail at start, not on the first upload
            if (contextEncoder is not null) await vectors.EnsureReadyAsync(contextEncoder.Dimension, ct);
            var lexical = await OpenLexicalIndexAsync(data, ct);
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
            context is null ? "none (BM25 only)" : options.Models.ContextEncoder ?? options.Models.QuestionEncoder,
            role == RuntimeRole.IngestWorker ? "not needed"
                : parts.Generator?.Architecture ?? (options.RemoteGenerator.BaseUrl is null ? "none (extractive answers)" : "remote " + options.RemoteGenerator.BaseUrl));
    }

    static void CheckDevice(string device)
    {
        switch (device.ToLowerInvariant())
        {
            case "cpu" or "auto": return;
            case "cuda": throw new InvalidOperationException("Rag:Models:Device is 'cuda' but this build has no CUDA backend yet; use 'cpu' or 'auto'.");
            default: throw new InvalidOperationException($"Rag:Models:Device must be cpu, cuda or auto, not '{device}'.");
        }
    }

    static (ITextEncoderModel?, ITextEncoderModel?) LoadEncoders(ModelSettings models, RuntimeRole role)
    {
        if (string.IsNullOrEmpty(models.QuestionEncoder))
        {
            if (!string.IsNullOrEmpty(models.ContextEncoder))
                throw new InvalidOperationException("Rag:Models:ContextEncoder is set but Rag:Models:QuestionEncoder is not: set both (or only QuestionEncoder for a shared bi-encoder).");
            return (null, null);
        }
        var shared = string.IsNullOrEmpty(models.ContextEncoder) || SamePath(models.ContextEncoder, models.QuestionEncoder);
        if (role == RuntimeRole.IngestWorker) // a worker embeds chunks only
            return (null, Load(shared ? models.QuestionEncoder : models.ContextEncoder!, "context encoder", NeuralModels.LoadEncoder));
        var question = Load(models.QuestionEncoder, "question encoder", NeuralModels.LoadEncoder);
        var context = shared ? question : Load(models.ContextEncoder!, "context encoder", NeuralModels.LoadEncoder);
        if (context.Dimension != question.Dimension)
            throw new InvalidOperationException($"The question encoder ({question.Dimension}) and context encoder ({context.Dimension}) must embed to the same dimension.");
        return (question, context);
    }

    static bool SamePath(string a, string b) => Path.GetFullPath(a) == Path.GetFullPath(b);

    static T Load<T>(string directory, string role, Func<string, T> load)
    {
        if (!Directory.Exists(directory))
            throw new InvalidOperationException($"The {role} folder '{Path.GetFullPath(directory)}' does not exist.");
        try { return load(directory); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"Could not load the {role} from '{Path.GetFullPath(directory)}': {e.Message}", e);
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
    async Task<ILexicalIndex> OpenLexicalIndexAsync(string data, CancellationToken ct) => IsPostgres
        ? new PostgresBm25Index(options.Storage.ConnectionString!)
        : await Bm25Index.OpenAsync(Path.Combine(data, "bm25"), null, ct);

    bool IsPostgres => options.Storage.Provider.Trim().ToLowerInvariant() is "postgres" or "postgresql";

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
        if (Vectors is QdrantVectorIndex qdrant) await qdrant.CheckReachableAsync(ct);
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
