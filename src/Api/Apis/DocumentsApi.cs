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
            .Produces<UploadResponse>(201).Produces<BatchUploadResponse>(200).ProducesProblem(400).ProducesProblem(413).ProducesProblem(415);
        api.MapGet("/", List);
        api.MapGet("/{id}", Get);
        api.MapGet("/{id}/chunks", Chunks);
        api.MapDelete("/{id}", Delete);
        api.MapPost("/{id}/reingest", Reingest);
        api.MapPost("/reingest", ReingestAll);
        return api;
    }

    /// <summary>
    /// multipart/form-data with a `file` field (optional title, externalId, tags), or JSON {title, text}. Several
    /// files in one form (repeated `file` fields, or `files` fields) get one result each, accepted or refused on its own.
    /// </summary>
    static async Task<IResult> Upload(HttpRequest request, ClaimsPrincipal user, DocumentIngestion ingestion, CancellationToken ct)
    {
        if (!request.HasFormContentType)
        {
            if (!request.HasJsonContentType())
                throw new RequestProblemException(415, "Unsupported media type",
                    "Send multipart/form-data with a 'file' field (or several 'files'), or application/json {\"title\": ..., \"text\": ...}.");
            return Submitted(await ingestion.SubmitAsync(user.Tenant(), ReadJson(await request.ReadFromJsonAsync<TextDocumentRequest>(ct)), ct));
        }

        var form = await ReadFormAsync(request, ct);
        var files = form.Files.Where(f => f.Name is "file" or "files").ToList();
        if (files.Count == 0) throw new RequestProblemException(400, "Missing file", "The multipart form has no 'file' field.");
        var tags = form["tags"].SelectMany(t => (t ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray();
        if (files.Count == 1 && files[0].Name == "file")
            return Submitted(await ingestion.SubmitAsync(user.Tenant(), ToUpload(files[0], NullIfEmpty(form["title"]), NullIfEmpty(form["externalId"]), tags), ct));

        if (NullIfEmpty(form["title"]) is not null || NullIfEmpty(form["externalId"]) is not null)
            throw new RequestProblemException(400, "One title for several files",
                "'title' and 'externalId' name one document; with several files each takes its own (from its file name or contents).");
        var results = new List<UploadItemResult>(files.Count);
        foreach (var file in files)
        {
            try
            {
                var result = await ingestion.SubmitAsync(user.Tenant(), ToUpload(file, null, null, tags), ct);
                results.Add(new UploadItemResult(CleanName(file.FileName), result.Duplicate ? 200 : 201, DocumentDto.From(result.Document), result.Duplicate, null, null));
            }
            catch (IngestRejectedException e)
            {
                var (status, title) = ProblemMapping.Classify(e);
                results.Add(new UploadItemResult(CleanName(file.FileName), status, null, false, title, e.Message));
            }
        }
        return TypedResults.Ok(new BatchUploadResponse(results, results.Count(r => r.Document is not null), results.Count(r => r.Document is null)));
    }

    static IResult Submitted(SubmitResult result)
    {
        var body = new UploadResponse(DocumentDto.From(result.Document), result.Duplicate);
        return result.Duplicate ? TypedResults.Ok(body) : TypedResults.Created($"/v1/documents/{result.Document.Id}", body);
    }

    static async Task<IFormCollection> ReadFormAsync(HttpRequest request, CancellationToken ct)
    {
        try
        {
            return await request.ReadFormAsync(ct);
        }
        catch (IOException e) when (e is not BadHttpRequestException && !ct.IsCancellationRequested)
        {
            // A truncated body or a missing closing boundary (an over-long body is Kestrel's 413, mapped with every other).
            throw new RequestProblemException(400, "Malformed multipart body", $"The multipart form could not be read: {e.Message}");
        }
    }

    // The form is already buffered by ASP.NET (within the request limit); ingestion reads each file once.
    static DocumentUpload ToUpload(IFormFile file, string? title, string? externalId, string[] tags) =>
        new(CleanName(file.FileName), file.ContentType, file.OpenReadStream(), title, externalId, tags);

    /// <summary>The file name without its folders and without control characters (NUL, newlines, escapes), which no title should carry.</summary>
    internal static string CleanName(string? name) => CleanText(Path.GetFileName(name ?? ""));

    internal static string CleanText(string text) =>
        string.Concat(text.Where(c => !char.IsControl(c))).Trim();

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

    /// <summary>The document, with the child documents (an e-mail's attachments) it has.</summary>
    static async Task<Results<Ok<DocumentDto>, ProblemHttpResult>> Get(string id, ClaimsPrincipal user, IRagStore store, CancellationToken ct) =>
        await store.Documents.GetAsync(user.Tenant(), id, ct) is { } doc
            ? TypedResults.Ok(DocumentDto.From(doc, await store.Documents.ListChildrenAsync(user.Tenant(), id, ct)))
            : NotFound(id);

    static async Task<Results<Ok<IReadOnlyList<ChunkDto>>, ProblemHttpResult>> Chunks(string id, ClaimsPrincipal user, IRagStore store, CancellationToken ct)
    {
        if (await store.Documents.GetAsync(user.Tenant(), id, ct) is null) return NotFound(id);
        var chunks = await store.Chunks.GetChunksAsync(user.Tenant(), id, ct);
        return TypedResults.Ok<IReadOnlyList<ChunkDto>>(chunks.Select(c => new ChunkDto(c.Ordinal, c.Text, c.StartChar, c.EndChar, c.HeadingPath, c.Page, c.PageLabel)).ToList());
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

    static string? NullIfEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : CleanText(s) is { Length: > 0 } clean ? clean : null;
}

/// <summary>One file of a several-file upload: its HTTP status (201 new, 200 duplicate, 4xx refused), and the document or the reason.</summary>
public sealed record UploadItemResult(string FileName, int Status, DocumentDto? Document, bool Duplicate, string? Title, string? Detail);
public sealed record BatchUploadResponse(IReadOnlyList<UploadItemResult> Results, int Accepted, int Refused);
public sealed record ReingestResponse(string DocumentId, string JobId);
public sealed record ReingestAllResponse(int Queued);
