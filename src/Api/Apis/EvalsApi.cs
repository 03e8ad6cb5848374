using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Rag.Api.Hosting;
using Rag.Eval;
using Rag.Hosting;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Api.Apis;

public sealed record EvalStartRequest(string? Dataset, int? Limit, IReadOnlyList<int>? K, RetrievalMode? Mode, bool Generate = false, int? Concurrency = null);

public sealed record EvalRunView(
    string Id, string Name, string Status, double Progress, string? Phase, string? Message,
    IReadOnlyDictionary<string, double>? Metrics, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

public static class EvalsApi
{
    public static void MapEvalsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/evals").WithTags("Evaluation").RequireAuthorization();
        // Datasets are paths on the server, so only admin keys may start runs.
        api.MapPost("/", Start).RequireAuthorization(p => p.RequireRole("admin")).ProducesProblem(400).ProducesProblem(403);
        api.MapGet("/", List);
        api.MapGet("/{id}", Get);
        api.MapGet("/{id}/report", Report);
    }

    static async Task<Accepted<EvalRunView>> Start(EvalStartRequest? request, ClaimsPrincipal user, EvalBackgroundRuns runs, EvalOptions eval, IRagStore store,
        IOptions<RagOptions> rag, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(request?.Dataset))
            throw new RequestProblemException(400, "Missing dataset", "The body needs 'dataset': squad:PATH, jsonl:PATH or beir:DIR.");
        var allowed = rag.Value.EvalDatasetFolders;
        if (!user.IsLocalOperator() && !DatasetLoader.IsWithin(request.Dataset, allowed))
            throw new RequestProblemException(403, "Dataset outside the allowed folders",
                $"Datasets are read only from {string.Join(", ", allowed)} (setting Rag:Eval:DatasetFolders); put the dataset there and name its full path.");
        var options = new EvalRunOptions
        {
            DatasetSpec = request.Dataset,
            Limit = request.Limit,
            Ks = request.K is { Count: > 0 } k ? k : [1, 5, 20, 100],
            Mode = request.Mode,
            Generate = request.Generate,
            Concurrency = request.Concurrency ?? Environment.ProcessorCount,
            OutputDirectory = eval.OutputDirectory,
            OwnerTenantId = user.Tenant(),
        };
        EvalRunState state;
        try
        {
            state = await runs.StartAsync(options, ct);
        }
        catch (Exception e) when ((e as System.Text.Json.JsonException ?? e.InnerException as System.Text.Json.JsonException) is { } json)
        {
            // The parser's message quotes the file's bytes: say where, never what.
            throw new RequestProblemException(400, "Bad evaluation request",
                $"The dataset is not valid JSON (line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1}).");
        }
        catch (Exception e) when (e is ArgumentException or FileNotFoundException or DirectoryNotFoundException or InvalidDataException)
        {
            throw new RequestProblemException(400, "Bad evaluation request", e.Message);
        }
        catch (InvalidOperationException e)
        {
            throw new RequestProblemException(409, "Conflict", e.Message);
        }
        var record = await store.EvalRuns.GetAsync(user.Tenant(), state.RunId, ct);
        return TypedResults.Accepted($"/v1/evals/{state.RunId}", View(record!, state));
    }

    static async Task<Ok<List<EvalRunView>>> List(ClaimsPrincipal user, IRagStore store, EvalBackgroundRuns runs, CancellationToken ct) =>
        TypedResults.Ok((await store.EvalRuns.ListAsync(user.Tenant(), 50, ct)).Select(r => View(r, runs.Get(r.Id))).ToList());

    static async Task<Results<Ok<EvalRunView>, ProblemHttpResult>> Get(string id, ClaimsPrincipal user, IRagStore store, EvalBackgroundRuns runs, CancellationToken ct) =>
        await store.EvalRuns.GetAsync(user.Tenant(), id, ct) is { } record
            ? TypedResults.Ok(View(record, runs.Get(id)))
            : NotFound(id);

    /// <summary>The run's self-contained HTML report (charts and per-question table).</summary>
    static async Task<IResult> Report(string id, ClaimsPrincipal user, IRagStore store, EvalOptions eval, CancellationToken ct)
    {
        if (await store.EvalRuns.GetAsync(user.Tenant(), id, ct) is null) return NotFound(id);
        var path = Path.Combine(eval.OutputDirectory, Path.GetFileName(id), EvalRunner.HtmlReportName);
        return File.Exists(path)
            ? TypedResults.PhysicalFile(path, "text/html; charset=utf-8")
            : TypedResults.Problem(statusCode: 404, title: "No report yet", detail: $"Run '{id}' has not written its report yet.");
    }

    /// <summary>The stored record, with this process's live progress when the run is going here.</summary>
    static EvalRunView View(EvalRunRecord record, EvalRunState? live)
    {
        var result = live?.Result ?? (record.ResultJson is { } json ? EvalJson.FromSummaryJson(json) : null);
        var progress = live?.Progress;
        return new EvalRunView(
            record.Id, record.Name, (live?.Status.ToString() ?? record.Status).ToLowerInvariant(),
            progress?.Fraction ?? record.Progress, progress?.Phase.ToString().ToLowerInvariant(), progress?.Message,
            result?.Metrics.ToDictionary(m => m.Name, m => m.Value), live?.Error ?? record.Error, record.CreatedAt, record.UpdatedAt);
    }

    static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No evaluation run '{id}' for this key's tenant.");
}
