namespace Rag.Client;

// The API's JSON, as records: a renamed field on the server fails the client's tests.

/// <summary>A document; Status is queued, processing, indexed or failed (then Error says why).</summary>
public sealed record RagDocument(
    string Id, string Title, string? FileName, string ContentType, long SizeBytes, string ContentHash,
    string? ExternalId, IReadOnlyList<string> Tags, string Status, string? Error, int ChunkCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? ParentId = null, IReadOnlyList<RagChildDocument>? Attachments = null)
{
    public bool IsIndexed => Status == "indexed";
    public bool IsFailed => Status == "failed";
}

/// <summary>A child document (an e-mail's attachment) as its parent's GET lists it.</summary>
public sealed record RagChildDocument(string Id, string Title, string Status);

/// <summary>Duplicate: the tenant already had these exact bytes, and this is that document.</summary>
public sealed record RagUpload(RagDocument Document, bool Duplicate);

public sealed record RagDocumentPage(IReadOnlyList<RagDocument> Items, int Total, int Offset, int Limit);

public sealed record RagReingest(string DocumentId, string JobId);

public enum RagRetrievalMode { Hybrid, Dense, Bm25 }

public sealed record RagSearchHit(
    int Rank, string DocumentId, string DocumentTitle, string ChunkId, string Text, float Score,
    int StartChar, int EndChar, string? HeadingPath, int? Page, int? DenseRank, int? LexicalRank, string? PageLabel = null);

public sealed record RagSearchResult(string Mode, string? Notice, IReadOnlyList<RagSearchHit> Results, double RetrievalMs);

/// <summary>[Number] in the answer points at this passage of this document.</summary>
public sealed record RagCitation(int Number, string DocumentId, string DocumentTitle, string ChunkId, int StartChar, int EndChar, int? Page, string Snippet,
    string? PageLabel = null); // "p. 7", "slide 7"

public sealed record RagTimings(double RetrievalMs, double GenerationMs, double TotalMs, int GeneratedTokens);

/// <summary>Mode: generated or extractive; pass ConversationId back for a follow-up question.</summary>
public sealed record RagAnswer(
    string Answer, IReadOnlyList<RagCitation> Citations, string? ConversationId, string Mode, string RetrievalMode,
    IReadOnlyList<string> Notices, string StandaloneQuestion, RagTimings Timings);

/// <summary>What narrows a search or a chat turn; all optional.</summary>
public sealed record RagQueryOptions
{
    public int? K { get; init; }
    public RagRetrievalMode? Mode { get; init; }
    public IReadOnlyList<string>? DocumentIds { get; init; }
    public IReadOnlyList<string>? Tags { get; init; }
    /// <summary>Chat only: continue this conversation.</summary>
    public string? ConversationId { get; init; }
}

/// <summary>A streamed chat: tokens as they are generated, then one completion with the citations.</summary>
public abstract record RagChatEvent;
public sealed record RagChatToken(string Text) : RagChatEvent;
public sealed record RagChatCompleted(RagAnswer Answer) : RagChatEvent;

/// <summary>The API answered with problem details (RFC 9457): Status and Detail say what went wrong.</summary>
public sealed class RagApiException(int status, string title, string detail)
    : Exception($"Rag API {status} {title}: {detail}")
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string Detail { get; } = detail;
}

/// <summary>Ingestion of the document ended in failed; Document.Error says why.</summary>
public sealed class RagIngestFailedException(RagDocument document)
    : Exception($"Document '{document.Id}' ({document.Title}) failed to ingest: {document.Error}")
{
    public RagDocument Document { get; } = document;
}
