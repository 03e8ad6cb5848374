using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Rag.Api.Hosting;
using Rag.Retriever;

namespace Rag.Api.Apis;

public sealed record SearchRequest(string? Query, int? K, RetrievalMode? Mode, IReadOnlyList<string>? DocumentIds, IReadOnlyList<string>? Tags);

public sealed record SearchHit(
    int Rank, string DocumentId, string DocumentTitle, string ChunkId, string Text, float Score,
    int StartChar, int EndChar, string? HeadingPath, int? Page, int? DenseRank, int? LexicalRank, string? PageLabel);

public sealed record SearchResponse(RetrievalMode Mode, string? Notice, IReadOnlyList<SearchHit> Results, double RetrievalMs, string? Retrieval);

public static class SearchApi
{
    public const int MaxK = 100;

    public static void MapSearchApi(this IEndpointRouteBuilder app) =>
        app.MapPost("/v1/search", Search).WithTags("Search").RequireAuthorization().ProducesProblem(400);

    static async Task<Ok<SearchResponse>> Search(SearchRequest? request, ClaimsPrincipal user, IRetriever retriever, CancellationToken ct)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Query))
            throw new RequestProblemException(400, "Missing query", "The body needs a non-empty 'query'.");
        var k = ValidK(request.K, 10);
        var result = await retriever.RetrieveAsync(
            new RetrievalRequest(request.Query, Filter(user, request.DocumentIds, request.Tags), k, request.Mode ?? RetrievalMode.Hybrid), ct);
        var hits = result.Passages.Select((p, i) => new SearchHit(
            i + 1, p.Chunk.DocumentId, p.DocumentTitle, p.Chunk.Id, p.Chunk.Text, p.Score,
            p.Chunk.StartChar, p.Chunk.EndChar, p.Chunk.HeadingPath, p.Chunk.Page, p.DenseRank, p.LexicalRank, p.Chunk.PageLabel)).ToList();
        return TypedResults.Ok(new SearchResponse(result.Mode, result.Notice, hits, result.Elapsed.TotalMilliseconds, result.Retrieval));
    }

    internal static int ValidK(int? k, int fallback) => k switch
    {
        null => fallback,
        >= 1 and <= MaxK => k.Value,
        _ => throw new RequestProblemException(400, "Bad k", $"k must be between 1 and {MaxK}."),
    };

    /// <summary>The tenant always comes from the API key, never from the request body.</summary>
    internal static SearchFilter Filter(ClaimsPrincipal user, IReadOnlyList<string>? documentIds, IReadOnlyList<string>? tags) =>
        new(user.Tenant(), documentIds is { Count: > 0 } ? documentIds : null, tags is { Count: > 0 } ? tags : null);
}
