using Rag.Api.Hosting;
using Rag.Hosting;
using Rag.Ingest;

namespace Rag.Api.Apis;

public static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        // Liveness: the process answers.
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "ok" })).WithTags("Health").AllowAnonymous();

        // Readiness: the store (and Qdrant) answer; a down database or Qdrant gives 503 with the reason, never a hang.
        app.MapGet("/readyz", async (RagRuntime runtime, IServiceProvider services, CancellationToken ct) =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            try
            {
                await runtime.CheckHealthAsync(timeout.Token);
                // Documents indexed before an encoder ran, being embedded in the background (null when there are none).
                var upgrade = services.GetService<VectorBackfill>() is { } backfill ? await backfill.ProgressAsync(timeout.Token) : null;
                return Results.Ok(new
                {
                    status = "ready",
                    retrieval = runtime.QuestionEncoder is null ? "bm25" : "hybrid",
                    retrievalDescription = runtime.RetrievalDescription,
                    encoder = runtime.EncoderName,
                    embeddingBackfill = upgrade,
                    generator = runtime.Generator?.Architecture
                        ?? (runtime.Options.RemoteGenerator.BaseUrl is null ? "extractive" : "remote"),
                });
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                return Results.Problem(statusCode: 503, title: "Not ready", detail: e.Message);
            }
        }).WithTags("Health").AllowAnonymous();
    }
}
