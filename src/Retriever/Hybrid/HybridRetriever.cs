using System.Diagnostics;
using Microsoft.Extensions.AI;
using Rag.Neural.Builtin;
using Rag.Storage;

namespace Rag.Retriever.Hybrid;

/// <summary>
/// Question → passages: the question encoder and the vector index (dense), BM25 (lexical), or both fused
/// (<see cref="ScoreFusion"/>: normalised scores, or reciprocal rank). Each side returns more candidates than asked (max(4k, 50)) so fusion sees the
/// chunks one side ranks low; chunk texts and document titles come from the stores.
/// With no question encoder every request is answered by BM25 alone, and says so.
/// </summary>
public sealed class HybridRetriever(
    IEmbeddingGenerator<string, Embedding<float>>? questionEncoder,
    IVectorIndex vectorIndex,
    ILexicalIndex lexicalIndex,
    IChunkStore chunks,
    IDocumentStore documents,
    FusionMethod fusion = HybridRetriever.DefaultFusion) : IRetriever
{
    public const string NoEncoderNotice = "No question encoder is configured: BM25-only retrieval.";

    /// <summary>Measured on SQuAD dev with both built-in encoders (bench/README.md, "Dense and hybrid retrieval").</summary>
    public const FusionMethod DefaultFusion = FusionMethod.MinMax;

    public FusionMethod Fusion => fusion;

    public bool HasDenseEncoder => questionEncoder is not null;

    /// <summary>The question encoder's display name ("arctic-embed-xs", a model folder's name); null without one.</summary>
    public string? EncoderName { get; } = questionEncoder?.GetService<EmbeddingGeneratorMetadata>()?.DefaultModelId is { } id ? BuiltinEncoders.DisplayName(id) : null;

    public static int CandidatesFor(int k) => Math.Max(k * 4, 50);

    public async Task<RetrievalResult> RetrieveAsync(RetrievalRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(request.Filter.TenantId);
        var clock = Stopwatch.StartNew();
        var mode = questionEncoder is null ? RetrievalMode.Bm25 : request.Mode;
        var notice = questionEncoder is null ? NoEncoderNotice : null;
        if (request.K <= 0 || string.IsNullOrWhiteSpace(request.Query))
            return new RetrievalResult([], mode, notice, clock.Elapsed, RetrievalLabels.Describe(mode, EncoderName));
        using var activity = RetrieverTelemetry.Source.StartActivity("retrieve");
        activity?.SetTag("rag.retrieval.mode", Name(mode));
        activity?.SetTag("rag.retrieval.k", request.K);

        var candidates = CandidatesFor(request.K);
        var denseTask = mode is RetrievalMode.Dense or RetrievalMode.Hybrid
            ? DenseAsync(request.Query, request.Filter, candidates, ct)
            : Task.FromResult<IReadOnlyList<ScoredChunk>>([]);
        var lexicalTask = mode is RetrievalMode.Bm25 or RetrievalMode.Hybrid
            ? LexicalAsync(request.Query, request.Filter, candidates, ct)
            : Task.FromResult<IReadOnlyList<ScoredChunk>>([]);
        var dense = await denseTask;
        var lexical = await lexicalTask;

        // A single list keeps its own scores; fusion replaces them with fused scores.
        IReadOnlyList<FusedChunk> ranked = mode switch
        {
            RetrievalMode.Dense => [.. dense.Select((c, i) => new FusedChunk(c.ChunkId, c.DocumentId, c.Score, i + 1, null))],
            RetrievalMode.Bm25 => [.. lexical.Select((c, i) => new FusedChunk(c.ChunkId, c.DocumentId, c.Score, null, i + 1))],
            _ => Fuse(dense, lexical),
        };
        var passages = await LoadAsync(request.Filter.TenantId, ranked, request.K, ct);
        activity?.SetTag("rag.retrieval.passages", passages.Count);
        RetrieverTelemetry.Duration.Record(clock.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("rag.retrieval.mode", Name(mode)));
        return new RetrievalResult(passages, mode, notice, clock.Elapsed, RetrievalLabels.Describe(mode, EncoderName));
    }

    static string Name(RetrievalMode mode) => mode.ToString().ToLowerInvariant();

    async Task<IReadOnlyList<ScoredChunk>> DenseAsync(string query, SearchFilter filter, int candidates, CancellationToken ct)
    {
        using var activity = RetrieverTelemetry.Source.StartActivity("retrieve.dense");
        var embeddings = await questionEncoder!.GenerateAsync([query], cancellationToken: ct);
        var hits = await vectorIndex.SearchAsync(embeddings[0].Vector.ToArray(), filter, candidates, ct);
        activity?.SetTag("rag.retrieval.candidates", hits.Count);
        return hits;
    }

    async Task<IReadOnlyList<ScoredChunk>> LexicalAsync(string query, SearchFilter filter, int candidates, CancellationToken ct)
    {
        using var activity = RetrieverTelemetry.Source.StartActivity("retrieve.bm25");
        var hits = await lexicalIndex.SearchAsync(query, filter, candidates, ct);
        activity?.SetTag("rag.retrieval.candidates", hits.Count);
        return hits;
    }

    IReadOnlyList<FusedChunk> Fuse(IReadOnlyList<ScoredChunk> dense, IReadOnlyList<ScoredChunk> lexical)
    {
        using var activity = RetrieverTelemetry.Source.StartActivity("retrieve.fusion");
        activity?.SetTag("rag.retrieval.fusion", fusion.ToString());
        return ScoreFusion.Fuse(fusion, dense, lexical);
    }

    /// <summary>
    /// Texts and titles for the top k, in two batched store reads (chunks, then their documents) rather than a query
    /// per passage; a chunk or document missing from the store (deleted meanwhile) is skipped and the next one taken.
    /// </summary>
    async Task<List<RetrievedPassage>> LoadAsync(string tenantId, IReadOnlyList<FusedChunk> ranked, int k, CancellationToken ct)
    {
        var wanted = ranked.Take(Math.Min(ranked.Count, k * 2)).ToList();
        var (records, documentsById) = await ReadAsync(tenantId, wanted, ct);
        if (Usable(wanted, records, documentsById) < Math.Min(k, ranked.Count) && wanted.Count < ranked.Count)
        {
            wanted = [.. ranked];
            (records, documentsById) = await ReadAsync(tenantId, wanted, ct);
        }
        var passages = new List<RetrievedPassage>(k);
        foreach (var c in wanted)
        {
            if (passages.Count == k) break;
            if (!records.TryGetValue(c.ChunkId, out var chunk) || !documentsById.TryGetValue(chunk.DocumentId, out var document)) continue;
            passages.Add(new RetrievedPassage(chunk, document.Title, c.Score, c.DenseRank, c.LexicalRank));
        }
        return passages;
    }

    async Task<(Dictionary<string, ChunkRecord> Chunks, IReadOnlyDictionary<string, DocumentRecord> Documents)> ReadAsync(
        string tenantId, List<FusedChunk> wanted, CancellationToken ct)
    {
        var records = (await chunks.GetChunksByIdAsync(tenantId, [.. wanted.Select(c => c.ChunkId)], ct)).ToDictionary(c => c.Id, StringComparer.Ordinal);
        var documentIds = records.Values.Select(c => c.DocumentId).ToHashSet(StringComparer.Ordinal);
        return (records, await documents.GetManyAsync(tenantId, documentIds, ct));
    }

    static int Usable(List<FusedChunk> wanted, Dictionary<string, ChunkRecord> records, IReadOnlyDictionary<string, DocumentRecord> documentsById) =>
        wanted.Count(c => records.TryGetValue(c.ChunkId, out var chunk) && documentsById.ContainsKey(chunk.DocumentId));
}
