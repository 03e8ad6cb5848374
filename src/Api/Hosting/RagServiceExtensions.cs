using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;
using Rag.Api.Apis;
using Rag.Chat;
using Rag.Eval;
using Rag.Generator;
using Rag.Generator.Extractive;
using Rag.Hosting;
using Rag.Ingest;
using Rag.Neural;
using Rag.Retriever;
using Rag.Retriever.Encoders;
using Rag.Retriever.Hybrid;
using Rag.Storage;
using Rag.Tokenizers;

namespace Rag.Api.Hosting;

/// <summary>All wiring lives here: Program.cs and the CLI call these and nothing else.</summary>
public static class RagServiceExtensions
{
    /// <summary>Options, stores, indexes, models, retrieval, generation, ingestion and chat: everything but HTTP. Returns the options it bound.</summary>
    public static RagOptions AddRagCore(this IServiceCollection services, IConfiguration configuration, bool runWorker,
        RuntimeRole role = RuntimeRole.Service)
    {
        var options = services.AddRagRuntime(configuration, role);
        services.AddSingleton<IRetriever>(sp => new HybridRetriever(
            sp.GetKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(RagHostingExtensions.QuestionEncoderKey),
            sp.GetRequiredService<IVectorIndex>(),
            sp.GetRequiredService<ILexicalIndex>(),
            sp.GetRequiredService<IRagStore>().Chunks,
            sp.GetRequiredService<IRagStore>().Documents));
        if (options.Models.ActiveQuestionEncoder is not null && role == RuntimeRole.Service)
            // Extractive answers rank sentences with the same dual encoder that ranked the passages.
            services.AddSingleton(sp => new SentenceSimilarity(
                sp.GetRequiredKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(RagHostingExtensions.QuestionEncoderKey),
                sp.GetRequiredService<IEmbeddingGenerator<string, Embedding<float>>>()));
        services.AddRagIngest(options, runWorker && options.Worker.Enabled);
        if (!string.IsNullOrEmpty(options.Models.Generator))
            services.AddSingleton(sp => sp.GetRequiredService<RagRuntime>().Generator!); // loaded once, at start
        services.AddRagGenerator(new GeneratorOptions
        {
            LocalModelDirectory = options.Models.Generator,
            RemoteBaseUrl = options.RemoteGenerator.BaseUrl,
            RemoteApiKey = options.RemoteGenerator.ApiKey,
            RemoteModel = options.RemoteGenerator.Model,
            MaxNewTokens = options.Models.MaxNewTokens,
            Temperature = options.Models.Temperature,
        });
        services.AddRagChat();
        services.AddRagEval(o => o.OutputDirectory = Path.Combine(options.DataPath, "evals"));
        return options;
    }

    /// <summary>The HTTP host: auth, limits, problem details, OpenAPI, the endpoints and the web page.</summary>
    public static WebApplication BuildRagServer(string[] args)
    {
        // The page ships beside the binary, so it is served whatever the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            WebRootPath = Path.Combine(AppContext.BaseDirectory, "wwwroot"),
        });
        var services = builder.Services;
        services.AddHostedService<RuntimeStarter>(); // first, so stores are open before the worker starts
        services.AddHostedService<AdminKeyBootstrap>();
        services.AddSingleton<LocalOperatorToken>();
        services.AddHostedService<LocalServiceAnnouncer>();
        var rag = services.AddRagCore(builder.Configuration, runWorker: true);
        builder.AddRagServerTelemetry(rag.Telemetry);
        if (rag.Models.ActiveQuestionEncoder is not null)
        {
            // Documents indexed while no encoder ran get their vectors in the background (the BM25-only upgrade).
            services.AddSingleton(sp => new VectorBackfill(sp.GetRequiredService<IRagStore>(), sp.GetRequiredService<IVectorIndex>(),
                sp.GetRequiredService<DocumentIngestion>(), sp.GetService<ILogger<VectorBackfill>>()));
            services.AddHostedService(sp => sp.GetRequiredService<VectorBackfill>());
        }

        var limits = rag.Limits;
        // Room for multipart framing around a file of the maximum size; the exact limit is enforced on the file itself.
        var bodyLimit = limits.MaxUploadBytes + 64 * 1024;
        services.Configure<KestrelServerOptions>(o =>
        {
            o.Limits.MaxRequestBodySize = bodyLimit;
            ServerLimits.RaiseKestrelToCeiling(o);
        });
        services.Configure<FormOptions>(o => o.MultipartBodyLengthLimit = bodyLimit);

        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase));
            o.SerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        });
        services.AddProblemDetails();
        // Binding failures (malformed JSON, "k":"abc", a missing Content-Type) throw, so ProblemMapping explains each the same way.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddExceptionHandler<ProblemMapping>();
        services.AddSingleton(new FailedAuthThrottle(limits));
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
                    context.HttpContext.Response.Headers.RetryAfter = ((int)retry.TotalSeconds).ToString();
                await Results.Problem(statusCode: 429, title: "Too many requests",
                    detail: $"This API key is limited to {limits.RequestsPerMinute} requests a minute.").ExecuteAsync(context.HttpContext);
            };
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
                limits.RequestsPerMinute <= 0 || http.User.FindFirst(RagClaims.KeyId)?.Value is not { } key || key == RagClaims.LocalOperatorKeyId
                    ? RateLimitPartition.GetNoLimiter("anonymous")
                    : RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = limits.RequestsPerMinute,
                        Window = TimeSpan.FromMinutes(1),
                        QueueLimit = 0,
                    }));
        });
        services.AddOpenApi();

        var app = builder.Build();
        app.UseServerLimits();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseRateLimiter();
        app.UseAuthorization();
        app.MapOpenApi();
        app.UseSwaggerUI(o => o.SwaggerEndpoint("/openapi/v1.json", "Rag API v1"));

        app.MapHealthApi();
        app.MapRagTelemetry(rag.Telemetry);
        app.MapDocumentsApi();
        app.MapSearchApi();
        app.MapChatApi();
        app.MapOpenAiCompatibleApi();
        app.MapEvalsApi();
        return app;
    }
}
