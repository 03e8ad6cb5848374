using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rag.Retriever.Encoders;

namespace Rag.Hosting;

/// <summary>
/// The wiring every process shares (the Api, the CLI and the standalone ingest worker): options, the
/// store, the vector and lexical indexes, and the encoders as <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/>.
/// </summary>
public static class RagHostingExtensions
{
    /// <summary>The key of the question encoder; the unkeyed embedding generator is the context encoder, which ingestion resolves.</summary>
    public const string QuestionEncoderKey = "question";

    public static RagOptions AddRagRuntime(this IServiceCollection services, IConfiguration configuration, RuntimeRole role)
    {
        var options = RagOptions.Bind(configuration);
        services.AddSingleton(Options.Create(options));
        services.AddSingleton(sp => new RagRuntime(sp.GetRequiredService<IOptions<RagOptions>>(), role, sp.GetRequiredService<ILogger<RagRuntime>>()));
        services.AddSingleton(sp => sp.GetRequiredService<RagRuntime>().Store);
        services.AddSingleton(sp => sp.GetRequiredService<RagRuntime>().Vectors);
        services.AddSingleton(sp => sp.GetRequiredService<RagRuntime>().Lexical);

        if (options.Models.ActiveQuestionEncoder is { } questionModelId)
        {
            var contextModelId = options.Models.ActiveContextEncoder!;
            services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(
                sp => new DprEmbeddingGenerator(sp.GetRequiredService<RagRuntime>().ContextEncoder!, contextModelId, ownsModel: false));
            services.AddSingleton(sp => sp.GetRequiredService<RagRuntime>().ContextEncoder!.Tokenizer); // chunks are cut in the encoder's tokens
            if (role == RuntimeRole.Service)
                // The retriever and the extractive answerer both embed the question: the cache makes that one forward pass.
                services.AddKeyedSingleton<IEmbeddingGenerator<string, Embedding<float>>>(QuestionEncoderKey,
                    (sp, _) => new RecentEmbeddingsCache(new DprEmbeddingGenerator(sp.GetRequiredService<RagRuntime>().QuestionEncoder!,
                        questionModelId, ownsModel: false, input: EmbeddingInput.Query)));
        }
        return options;
    }
}

/// <summary>Opens the runtime before any other hosted service starts (register it first), so a bad configuration stops the host at once.</summary>
public sealed class RuntimeStarter(RagRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken ct) => runtime.InitializeAsync(ct);

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}
