using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Microsoft.SemanticKernel.Data;
using Rag.Client;

namespace Rag.SemanticKernel;

/// <summary>
/// Semantic Kernel's text-search abstraction (ITextSearch&lt;TRecord&gt;, LINQ filters) over the Rag service's
/// /v1/search, so SK's text-search plugins and agents can ground answers in the user's documents. Results are the
/// passage text, named by its document's title and linked to the document as the API serves it (v1/documents/{id}).
/// A filter's conditions on DocumentId (==, ||, list.Contains) narrow the search on the server; the whole filter is
/// then applied to the hits, so any other condition (e.g. on Score) only drops hits and may return fewer than Top.
/// </summary>
public sealed class RagTextSearch(RagClient client, RagRetrievalMode? mode = null) : ITextSearch<RagSearchHit>
{
    public async Task<KernelSearchResults<string>> SearchAsync(string query, TextSearchOptions<RagSearchHit>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var hits = await SearchHitsAsync(query, searchOptions, cancellationToken);
        return new KernelSearchResults<string>(Stream(hits.Select(h => h.Text)));
    }

    public async Task<KernelSearchResults<TextSearchResult>> GetTextSearchResultsAsync(string query, TextSearchOptions<RagSearchHit>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var hits = await SearchHitsAsync(query, searchOptions, cancellationToken);
        return new KernelSearchResults<TextSearchResult>(Stream(hits.Select(h =>
            new TextSearchResult(h.Text) { Name = h.DocumentTitle, Link = "v1/documents/" + Uri.EscapeDataString(h.DocumentId) })));
    }

    /// <summary>The API's own hits, with chunk ids, offsets and ranks.</summary>
    public async Task<KernelSearchResults<RagSearchHit>> GetSearchResultsAsync(string query, TextSearchOptions<RagSearchHit>? searchOptions = null, CancellationToken cancellationToken = default)
    {
        var hits = await SearchHitsAsync(query, searchOptions, cancellationToken);
        return new KernelSearchResults<RagSearchHit>(Stream(hits));
    }

    /// <summary>The API has no offset, so Skip is served by asking for Top + Skip and dropping the first.</summary>
    async Task<IReadOnlyList<RagSearchHit>> SearchHitsAsync(string query, TextSearchOptions<RagSearchHit>? searchOptions, CancellationToken ct)
    {
        var top = searchOptions?.Top ?? TextSearchOptions<RagSearchHit>.DefaultTop;
        var skip = searchOptions?.Skip ?? 0;
        if (top < 1 || skip < 0) throw new ArgumentOutOfRangeException(nameof(searchOptions), "Top must be at least 1 and Skip at least 0.");
        var filter = searchOptions?.Filter;
        var result = await client.SearchAsync(query, new RagQueryOptions { K = top + skip, Mode = mode, DocumentIds = DocumentIds(filter) }, ct);
        IEnumerable<RagSearchHit> hits = result.Results;
        if (filter is not null) hits = hits.Where(filter.Compile());
        return [.. hits.Skip(skip).Take(top)];
    }

    /// <summary>
    /// The document ids a filter restricts to, when its top level says so: h.DocumentId == x, ids.Contains(h.DocumentId),
    /// their || (union), or an &amp;&amp; with such a side (the other side is applied to the hits); null when it does not restrict them.
    /// </summary>
    internal static IReadOnlyList<string>? DocumentIds(Expression<Func<RagSearchHit, bool>>? filter) =>
        filter is null ? null : Restrict(filter.Body) is { } ids ? [.. ids.Distinct(StringComparer.Ordinal)] : null;

    static List<string>? Restrict(Expression e) => e switch
    {
        BinaryExpression { NodeType: ExpressionType.Equal } b when IsDocumentId(b.Left) => [Evaluate<string>(b.Right)],
        BinaryExpression { NodeType: ExpressionType.Equal } b when IsDocumentId(b.Right) => [Evaluate<string>(b.Left)],
        BinaryExpression { NodeType: ExpressionType.OrElse } b => Restrict(b.Left) is { } l && Restrict(b.Right) is { } r ? [.. l, .. r] : null,
        BinaryExpression { NodeType: ExpressionType.AndAlso } b => Intersect(Restrict(b.Left), Restrict(b.Right)),
        MethodCallExpression { Method.Name: "Contains" } call when ContainsDocumentId(call) is { } source => [.. Evaluate<IEnumerable<string>>(source)],
        _ => null,
    };

    static List<string>? Intersect(List<string>? a, List<string>? b) => (a, b) switch
    {
        (null, _) => b,
        (_, null) => a,
        _ => [.. a.Intersect(b, StringComparer.Ordinal)],
    };

    /// <summary>ids.Contains(h.DocumentId) as an instance, Enumerable or MemoryExtensions call; the collection, or null.</summary>
    static Expression? ContainsDocumentId(MethodCallExpression call) => call switch
    {
        { Object: { } list, Arguments: [var item] } when IsDocumentId(item) => list,
        { Object: null, Arguments: [var list, var item] } when IsDocumentId(item) => WithoutSpanConversion(list),
        _ => null,
    };

    /// <summary>C# 14 binds array.Contains(x) to MemoryExtensions.Contains over an implicit span conversion; the array is its operand.</summary>
    static Expression WithoutSpanConversion(Expression e) => e switch
    {
        MethodCallExpression { Method.Name: "op_Implicit", Arguments: [var inner] } => inner,
        UnaryExpression { NodeType: ExpressionType.Convert } u when u.Type.Name.StartsWith("ReadOnlySpan", StringComparison.Ordinal) || u.Type.Name.StartsWith("Span", StringComparison.Ordinal) => u.Operand,
        _ => e,
    };

    static bool IsDocumentId(Expression e) => e is MemberExpression { Member.Name: nameof(RagSearchHit.DocumentId), Expression: ParameterExpression };

    static T Evaluate<T>(Expression e) => Expression.Lambda<Func<T>>(Expression.Convert(e, typeof(T))).Compile()();

    static async IAsyncEnumerable<T> Stream<T>(IEnumerable<T> items, [EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var item in items)
        {
            ct.ThrowIfCancellationRequested();
            yield return item;
        }
        await Task.CompletedTask;
    }
}
