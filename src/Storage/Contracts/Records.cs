namespace Rag.Storage;

/// <summary>A tenant owns documents, keys and conversations; nothing crosses tenants.</summary>
public sealed record Tenant(string Id, string Name, DateTimeOffset CreatedAt);

/// <summary>An API key as stored: only its SHA-256 hash and a short display prefix are kept.</summary>
public sealed record ApiKeyInfo(string Id, string TenantId, string Name, string Prefix, bool IsAdmin, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>A freshly created key: the plaintext is shown once and never stored.</summary>
public sealed record NewApiKey(ApiKeyInfo Info, string Plaintext);

public enum DocumentStatus { Queued, Processing, Indexed, Failed }

public sealed record DocumentRecord(
    string Id,
    string TenantId,
    string Title,
    string? FileName,
    string ContentType,
    string ContentHash,     // SHA-256 of the original bytes, hex
    long SizeBytes,
    string? ExternalId,
    IReadOnlyList<string> Tags,
    DocumentStatus Status,
    string? Error,
    int ChunkCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? ParentId = null); // the document this one came out of (an e-mail's attachment names its message); fixed at creation

/// <summary>One chunk of a document's extracted text. Offsets are UTF-16 char offsets into the extracted text.</summary>
public sealed record ChunkRecord(
    string DocumentId,
    string TenantId,
    int Ordinal,
    string Text,
    int StartChar,
    int EndChar,
    string? HeadingPath,
    int? Page,
    string? PageLabel = null) // how a citation names the page: "p. 7", "slide 7" (see PageLabels)
{
    /// <summary>Stable id of a chunk: the same document and ordinal always give the same id.</summary>
    public string Id => ChunkId.Of(DocumentId, Ordinal);
}

/// <summary>What a format's page numbers count: a PDF's pages, a deck's slides.</summary>
public enum PageKind { Page, Slide }

/// <summary>The one place a page number becomes the words a citation shows.</summary>
public static class PageLabels
{
    public static string Of(PageKind kind, int page) => kind switch
    {
        PageKind.Slide => $"slide {page}",
        _ => $"p. {page}",
    };
}

public static class ChunkId
{
    public static string Of(string documentId, int ordinal) => $"{documentId}:{ordinal}";

    public static (string DocumentId, int Ordinal) Parse(string chunkId)
    {
        var i = chunkId.LastIndexOf(':');
        if (i <= 0 || !int.TryParse(chunkId.AsSpan(i + 1), out var ordinal))
            throw new FormatException($"Not a chunk id: '{chunkId}'.");
        return (chunkId[..i], ordinal);
    }
}

public sealed record Page<T>(IReadOnlyList<T> Items, int Total, int Offset, int Limit);

public sealed record Conversation(string Id, string TenantId, string? Title, DateTimeOffset CreatedAt);

public sealed record ChatMessageRecord(string ConversationId, int Ordinal, string Role, string Content, string? CitationsJson, DateTimeOffset CreatedAt);

public enum JobStatus { Queued, Leased, Done, Failed }

/// <summary>A unit of background work. Kind names the handler ("ingest"); Payload is its JSON.</summary>
public sealed record Job(
    string Id,
    string Kind,
    string Payload,
    string? TenantId,
    JobStatus Status,
    int Attempts,
    int MaxAttempts,
    string? LeaseOwner,
    DateTimeOffset? LeaseExpiresAt,
    DateTimeOffset RunAfter,
    string? Error,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>A job to enqueue together with a document write (IDocumentStore.AddWithJobAsync, UpdateWithJobAsync).</summary>
public sealed record NewJob(string Kind, string Payload, string? TenantId, int MaxAttempts = 5);

/// <summary>An evaluation run as stored: its config and results are JSON owned by src/Eval.</summary>
public sealed record EvalRunRecord(string Id, string TenantId, string Name, string Status, string ConfigJson, string? ResultJson, double Progress, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);
