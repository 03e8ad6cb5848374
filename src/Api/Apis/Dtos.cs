using Rag.Storage;

namespace Rag.Api.Apis;

/// <summary>A document as the API shows it. Status is one of queued, processing, indexed, failed.</summary>
public sealed record DocumentDto(
    string Id, string Title, string? FileName, string ContentType, long SizeBytes, string ContentHash,
    string? ExternalId, IReadOnlyList<string> Tags, string Status, string? Error, int ChunkCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static DocumentDto From(DocumentRecord d) => new(
        d.Id, d.Title, d.FileName, d.ContentType, d.SizeBytes, d.ContentHash, d.ExternalId, d.Tags,
        d.Status.ToString().ToLowerInvariant(), d.Error, d.ChunkCount, d.CreatedAt, d.UpdatedAt);
}

public sealed record UploadResponse(DocumentDto Document, bool Duplicate);

public sealed record DocumentPage(IReadOnlyList<DocumentDto> Items, int Total, int Offset, int Limit);

public sealed record TextDocumentRequest(string? Title, string? Text, string? ExternalId, IReadOnlyList<string>? Tags);

public sealed record ChunkDto(int Ordinal, string Text, int StartChar, int EndChar, string? HeadingPath, int? Page, string? PageLabel);
