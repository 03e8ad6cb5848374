using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Rag.Storage;

namespace Rag.Ingest;

/// <summary>An uploaded file. Content is read once, up to the size limit.</summary>
public sealed record DocumentUpload(
    string? FileName,
    string? ContentType,
    Stream Content,
    string? Title = null,
    string? ExternalId = null,
    IReadOnlyList<string>? Tags = null)
{
    public static DocumentUpload FromBytes(string? fileName, string? contentType, byte[] content, string? title = null, string? externalId = null, IReadOnlyList<string>? tags = null) =>
        new(fileName, contentType, new MemoryStream(content, writable: false), title, externalId, tags);

    /// <summary>Text posted as JSON: stored as a UTF-8 .txt file named after the title.</summary>
    public static DocumentUpload FromText(string title, string text, string? externalId = null, IReadOnlyList<string>? tags = null) =>
        FromBytes(title + ".txt", "text/plain", Encoding.UTF8.GetBytes(text), title, externalId, tags);
}

/// <summary>The stored document; Duplicate when the same bytes were already there (no new job then).</summary>
public sealed record SubmitResult(DocumentRecord Document, bool Duplicate, string? JobId);

public enum IngestRejectReason
{
    /// <summary>0 bytes or only whitespace (HTTP 400).</summary>
    Empty,
    /// <summary>A file type no extractor reads (HTTP 415).</summary>
    UnsupportedType,
    /// <summary>Over <see cref="IngestOptions.MaxUploadBytes"/> (HTTP 413).</summary>
    TooLarge,
    /// <summary>Named as text but binary or undecodable (HTTP 400).</summary>
    Unreadable,
}

/// <summary>The upload was refused before anything was stored.</summary>
public sealed class IngestRejectedException(IngestRejectReason reason, string message) : Exception(message)
{
    public IngestRejectReason Reason { get; } = reason;
}

/// <summary>The payload of an "ingest" job; TraceParent is the W3C trace context of the request that queued it, when traced.</summary>
public sealed record IngestJobPayload(
    string TenantId,
    string DocumentId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null)
{
    public const string Kind = "ingest";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static IngestJobPayload Parse(string json) =>
        JsonSerializer.Deserialize<IngestJobPayload>(json, Json) is { TenantId.Length: > 0, DocumentId.Length: > 0 } p
            ? p
            : throw new FormatException($"Not an ingest job payload: {json}");
}

/// <summary>The named steps of the pipeline, in order.</summary>
public enum IngestStep { Extract, Chunk, Embed, Save, MarkIndexed }

/// <summary>Where a document's ingestion is: step, and items done of total within it (chunks for Embed).</summary>
public sealed record IngestProgress(string DocumentId, IngestStep Step, int Done, int Total);

public enum IngestOutcome
{
    Indexed,
    /// <summary>Will never succeed (corrupt, unsupported): the document is Failed with the error.</summary>
    Failed,
    /// <summary>The document was deleted before or while it was ingested; nothing of it is left behind.</summary>
    Deleted,
}
