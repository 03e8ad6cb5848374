using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Rag.Generator;
using Rag.Ingest;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Eval;

/// <summary>Settings of the eval harness in a host.</summary>
public sealed class EvalOptions
{
    /// <summary>Where runs are written: &lt;OutputDirectory&gt;/&lt;runId&gt;/ (the host sets &lt;data&gt;/evals).</summary>
    public string OutputDirectory { get; set; } = Path.Combine("data", "evals");

    /// <summary>Ingest jobs the harness runs at once while it indexes a corpus.</summary>
    public int IngestConcurrency { get; set; } = Math.Max(1, Environment.ProcessorCount);
}

public static class EvalServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="EvalRunner"/> (over the host's IRagStore, IRetriever, and AddRagIngest's
    /// DocumentIngestion and IngestWorker; GroundedAnswerer from AddRagGenerator when present, for --generate)
    /// and <see cref="EvalBackgroundRuns"/> for the HTTP API.
    /// </summary>
    public static IServiceCollection AddRagEval(this IServiceCollection services, Action<EvalOptions>? configure = null)
    {
        var options = new EvalOptions();
        configure?.Invoke(options);
        if (options.IngestConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(configure), "IngestConcurrency must be at least 1.");
        services.TryAddSingleton(options);
        services.TryAddSingleton<IEvalCorpusIndexer>(sp => new IngestCorpusIndexer(
            sp.GetRequiredService<IRagStore>(), sp.GetRequiredService<DocumentIngestion>(), sp.GetRequiredService<IngestWorker>(), options.IngestConcurrency));
        services.TryAddSingleton(sp => new EvalRunner(
            sp.GetRequiredService<IRagStore>(),
            sp.GetRequiredService<IRetriever>(),
            sp.GetRequiredService<IEvalCorpusIndexer>(),
            sp.GetService<GroundedAnswerer>() is { } answerer ? new GroundedEvalAnswerer(answerer) : null));
        services.TryAddSingleton(sp => new EvalBackgroundRuns(
            sp.GetRequiredService<EvalRunner>(), sp.GetService<IHostApplicationLifetime>()?.ApplicationStopping ?? CancellationToken.None));
        return services;
    }
}
