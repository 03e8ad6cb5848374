using Rag.Storage;

namespace Rag.Api.Apis;

/// <summary>
/// A document as the API shows it. Status is one of queued, processing, indexed, failed. ParentId names the document it
/// came out of (an e-mail attachment's message); Attachments, shown on GET of one document, lists its child documents.
/// </summary>
public sealed record DocumentDto(
    string Id, string Title, string? FileName, string ContentType, long SizeBytes, string ContentHash,
    string? ExternalId, IReadOnlyList<string> Tags, string Status, string? Error, int ChunkCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? ParentId = null, IReadOnlyList<ChildDocumentDto>? Attachments = null)
{
    public static DocumentDto From(DocumentRecord d) => new(
        d.Id, d.Title, d.FileName, d.ContentType, d.SizeBytes, d.ContentHash, d.ExternalId, d.Tags,
        d.Status.ToString().ToLowerInvariant(), d.Error, d.ChunkCount, d.CreatedAt, d.UpdatedAt, d.ParentId);

    public static DocumentDto From(DocumentRecord d, IReadOnlyList<DocumentRecord> children) =>
        From(d) with { Attachments = children.Select(c => new ChildDocumentDto(c.Id, c.Title, c.Status.ToString().ToLowerInvariant())).ToList() };
}

/// <summary>A child document (an attachment of a message) as its parent lists it.</summary>
public sealed record ChildDocumentDto(string Id, string Title, string Status);

public sealed record UploadResponse(DocumentDto Document, bool Duplicate);

public sealed record DocumentPage(IReadOnlyList<DocumentDto> Items, int Total, int Offset, int Limit);

public sealed record TextDocumentRequest(string? Title, string? Text, string? ExternalId, IReadOnlyList<string>? Tags);

public sealed record ChunkDto(int Ordinal, string Text, int StartChar, int EndChar, string? HeadingPath, int? Page, string? PageLabel);
