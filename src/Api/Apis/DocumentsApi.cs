using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Rag.Api.Hosting;
using Rag.Ingest;
using Rag.Storage;

namespace Rag.Api.Apis;

public static class DocumentsApi
{
    public static RouteGroupBuilder MapDocumentsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/documents").WithTags("Documents").RequireAuthorization();
        // No Accepts metadata: it would make routing answer a bare 415 before the handler can explain.
        api.MapPost("/", Upload).DisableAntiforgery()
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415);
        api.MapGet("/", List);
        api.MapGet("/{id}", Get);
        api.MapGet("/{id}/chunks", Chunks);
        api.MapDelete("/{id}", Delete);
        api.MapPost("/{id}/reingest", Reingest);
        api.MapPost("/reingest", ReingestAll);
        return api;
    }

    /// <summary>multipart/form-data with a `file` field (optional title, externalId, tags), or JSON {title, text}.</summary>
    static async Task<Results<Created<UploadResponse>, Ok<UploadResponse>>> Upload(
        HttpRequest request, ClaimsPrincipal user, DocumentIngestion ingestion, CancellationToken ct)
    {
        var upload = request.HasFormContentType
            ? await ReadMultipartAsync(request, ct)
            : request.HasJsonContentType()
                ? ReadJson(await request.ReadFromJsonAsync<TextDocumentRequest>(ct))
                : throw new RequestProblemException(415, "Unsupported media type",
                    "Send multipart/form-data with a 'file' field, or application/json {\"title\": ..., \"text\": ...}.");

        var result = await ingestion.SubmitAsync(user.Tenant(), upload, ct);
        var body = new UploadResponse(DocumentDto.From(result.Document), result.Duplicate);
        return result.Duplicate
            ? TypedResults.Ok(body)
            : TypedResults.Created($"/v1/documents/{result.Document.Id}", body);
    }

    static async Task<DocumentUpload> ReadMultipartAsync(HttpRequest request, CancellationToken ct)
    {
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(ct);
        }
        catch (IOException e) when (!ct.IsCancellationRequested)
        {
            // A truncated body or a missing closing boundary.
            throw new RequestProblemException(400, "Malformed multipart body", $"The multipart form could not be read: {e.Message}");
        }
        var file = form.Files.GetFile("file")
            ?? throw new RequestProblemException(400, "Missing file", "The multipart form has no 'file' field.");
        // The form is already buffered by ASP.NET (within the upload limit); ingestion reads it once.
        return new DocumentUpload(
            FileName: Path.GetFileName(file.FileName),
            ContentType: file.ContentType,
            Content: file.OpenReadStream(),
            Title: NullIfEmpty(form["title"]),
            ExternalId: NullIfEmpty(form["externalId"]),
            Tags: form["tags"].SelectMany(t => (t ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray());
    }

    static DocumentUpload ReadJson(TextDocumentRequest? body)
    {
        if (body is null || string.IsNullOrWhiteSpace(body.Text))
            throw new RequestProblemException(400, "Empty document", "The JSON body needs a non-empty 'text'.");
        return DocumentUpload.FromText(NullIfEmpty(body.Title) ?? "Untitled", body.Text, NullIfEmpty(body.ExternalId), body.Tags ?? []);
    }

    static async Task<Ok<DocumentPage>> List(
        ClaimsPrincipal user, IRagStore store, CancellationToken ct,
        [FromQuery] int offset = 0, [FromQuery] int limit = 50, [FromQuery] string? title = null)
    {
        if (offset < 0 || limit is < 1 or > 500)
            throw new RequestProblemException(400, "Bad paging", "offset must be >= 0 and limit between 1 and 500.");
        var page = await store.Documents.ListAsync(user.Tenant(), offset, limit, title, ct);
        return TypedResults.Ok(new DocumentPage(page.Items.Select(DocumentDto.From).ToList(), page.Total, page.Offset, page.Limit));
    }

    static async Task<Results<Ok<DocumentDto>, ProblemHttpResult>> Get(string id, ClaimsPrincipal user, IRagStore store, CancellationToken ct) =>
        await store.Documents.GetAsync(user.Tenant(), id, ct) is { } doc
            ? TypedResults.Ok(DocumentDto.From(doc))
            : NotFound(id);

    static async Task<Results<Ok<IReadOnlyList<ChunkDto>>, ProblemHttpResult>> Chunks(string id, ClaimsPrincipal user, IRagStore store, CancellationToken ct)
    {
        if (await store.Documents.GetAsync(user.Tenant(), id, ct) is null) return NotFound(id);
        var chunks = await store.Chunks.GetChunksAsync(user.Tenant(), id, ct);
        return TypedResults.Ok<IReadOnlyList<ChunkDto>>(chunks.Select(c => new ChunkDto(c.Ordinal, c.Text, c.StartChar, c.EndChar, c.HeadingPath, c.Page)).ToList());
    }

    static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, ClaimsPrincipal user, DocumentIngestion ingestion, CancellationToken ct) =>
        await ingestion.DeleteAsync(user.Tenant(), id, ct) ? TypedResults.NoContent() : NotFound(id);

    /// <summary>Queues the document for ingestion again; its status goes to queued, then indexed or failed as a new upload's would.</summary>
    static async Task<Results<Accepted<ReingestResponse>, ProblemHttpResult>> Reingest(string id, ClaimsPrincipal user, DocumentIngestion ingestion, CancellationToken ct) =>
        await ingestion.ReingestAsync(user.Tenant(), id, ct) is { } jobId
            ? TypedResults.Accepted($"/v1/documents/{id}", new ReingestResponse(id, jobId))
            : NotFound(id);

    /// <summary>Queues every document of the tenant, or only those with ?status= (e.g. failed).</summary>
    static async Task<Results<Accepted<ReingestAllResponse>, ProblemHttpResult>> ReingestAll(
        ClaimsPrincipal user, DocumentIngestion ingestion, CancellationToken ct, [FromQuery] string? status = null)
    {
        if (!TryParseStatus(status, out var only))
            return TypedResults.Problem(statusCode: 400, title: "Unknown status", detail: UnknownStatusMessage(status!));
        return TypedResults.Accepted((string?)null, new ReingestAllResponse(await ingestion.ReingestAllAsync(user.Tenant(), only, ct)));
    }

    /// <summary>A status as the API writes it (queued, processing, indexed, failed; any case); null or empty means any status.</summary>
    internal static bool TryParseStatus(string? value, out DocumentStatus? status)
    {
        status = null;
        if (string.IsNullOrWhiteSpace(value)) return true;
        // Names only: Enum.TryParse would also take "3" or "1,2".
        foreach (var candidate in Enum.GetValues<DocumentStatus>())
            if (string.Equals(candidate.ToString(), value.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                status = candidate;
                return true;
            }
        return false;
    }

    internal static string UnknownStatusMessage(string value) =>
        $"Unknown document status '{value}'; allowed: {string.Join(", ", Enum.GetNames<DocumentStatus>().Select(n => n.ToLowerInvariant()))}.";

    internal static ProblemHttpResult NotFound(string id) =>
        TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No document '{id}' in this tenant.");

    static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}

public sealed record ReingestResponse(string DocumentId, string JobId);
public sealed record ReingestAllResponse(int Queued);
