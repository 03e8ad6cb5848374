using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Rag.Hosting;
using Rag.Retriever;
using Rag.Storage;
using Rag.Tokenizers;

namespace Rag.Ingest;

public static class IngestServiceCollectionExtensions
{
    /// <summary>Ingestion configured from the service's options (limits and the Rag:Worker section); runWorker adds the hosted worker.</summary>
    public static IServiceCollection AddRagIngest(this IServiceCollection services, RagOptions options, bool runWorker) =>
        services.AddRagIngest(o =>
        {
            o.MaxUploadBytes = options.Limits.MaxUploadBytes;
            o.Extraction = o.Extraction with { MaxChars = options.Limits.MaxExtractedChars, MaxAttachments = options.Limits.MaxAttachments };
            o.Ocr = o.Ocr with
            {
                Enabled = options.Ocr.Enabled,
                Languages = options.Ocr.Languages,
                MaxPages = options.Ocr.MaxPages,
                PageTimeout = TimeSpan.FromSeconds(options.Ocr.PageTimeoutSeconds),
                Dpi = options.Ocr.Dpi,
            };
            o.RunWorker = runWorker;
            o.WorkerConcurrency = options.Worker.Concurrency;
            o.LeaseDuration = TimeSpan.FromSeconds(options.Worker.LeaseSeconds);
            o.IdleWait = TimeSpan.FromSeconds(options.Worker.PollSeconds);
            o.ShutdownGrace = TimeSpan.FromSeconds(options.Worker.ShutdownGraceSeconds);
        });

    /// <summary>The background reader behind the rag.queue.depth gauge (only for a host that collects metrics).</summary>
    public static IServiceCollection AddQueueDepthGauge(this IServiceCollection services, TelemetrySettings settings)
    {
        if (settings.QueueSampleSeconds <= 0)
            throw new ArgumentOutOfRangeException(nameof(settings), "Rag:Telemetry:QueueSampleSeconds must be positive.");
        return services.AddHostedService(sp => new QueueDepthSampler(sp.GetRequiredService<IRagStore>(),
            TimeSpan.FromSeconds(settings.QueueSampleSeconds), sp.GetService<ILogger<QueueDepthSampler>>()));
    }

    /// <summary>
    /// Registers extraction, chunking, <see cref="DocumentIngestion"/>, <see cref="IngestPipeline"/>,
    /// the "ingest" job handler and <see cref="IngestWorker"/> (as a hosted service when RunWorker).
    /// The host registers the stores: IRagStore and ILexicalIndex (required); IVectorIndex (required
    /// when an embedder is registered); ITokenizer (the context encoder's, for chunking; optional);
    /// IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt; (the context encoder; optional = BM25 only);
    /// ILogger&lt;T&gt; and TimeProvider (optional).
    /// </summary>
    public static IServiceCollection AddRagIngest(this IServiceCollection services, Action<IngestOptions>? configure = null)
    {
        var options = new IngestOptions();
        configure?.Invoke(options);
        options.Validate();
        services.TryAddSingleton(options);

        services.TryAddSingleton(sp => ExtractorRegistry.CreateDefault(sp.GetRequiredService<IngestOptions>()));

        services.TryAddSingleton(sp => new TextChunker(sp.GetRequiredService<IngestOptions>().Chunking, sp.GetService<ITokenizer>()));
        services.TryAddSingleton(sp => new IngestPipeline(
            sp.GetRequiredService<IRagStore>(),
            sp.GetRequiredService<ExtractorRegistry>(),
            sp.GetRequiredService<TextChunker>(),
            sp.GetRequiredService<ILexicalIndex>(),
            sp.GetRequiredService<IngestOptions>(),
            sp.GetService<IVectorIndex>(),
            sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>(),
            sp.GetService<ILogger<IngestPipeline>>(),
            sp.GetRequiredService<DocumentIngestion>()));
        services.TryAddSingleton(sp => new DocumentIngestion(
            sp.GetRequiredService<IRagStore>(),
            sp.GetRequiredService<ExtractorRegistry>(),
            sp.GetRequiredService<ILexicalIndex>(),
            sp.GetRequiredService<IngestOptions>(),
            sp.GetService<IVectorIndex>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<ILogger<DocumentIngestion>>()));

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IJobHandler, IngestJobHandler>(sp => new IngestJobHandler(
            sp.GetRequiredService<IngestPipeline>(), sp.GetRequiredService<IRagStore>(), sp.GetService<ILogger<IngestJobHandler>>())));
        services.TryAddSingleton(sp => new IngestWorker(
            sp.GetRequiredService<IRagStore>(), sp.GetServices<IJobHandler>(), sp.GetRequiredService<IngestOptions>(), sp.GetService<ILogger<IngestWorker>>()));
        if (options.RunWorker) services.AddHostedService(sp => sp.GetRequiredService<IngestWorker>());
        return services;
    }
}
