using Microsoft.Extensions.AI;
using Rag.Retriever.Encoders;
using Rag.Retriever.Hybrid;
using Rag.Retriever.Lexical;
using Rag.Retriever.Vectors;
using Rag.Testing;

namespace Rag.Retriever.Tests;

public sealed class HybridRetrieverTests : IAsyncLifetime
{
    readonly InMemoryStores stores = new();
    readonly Bm25Index bm25 = Bm25Index.CreateInMemory();
    readonly EmbeddedVectorIndex vectors = new(null);
    readonly HashingEncoder encoder = new();

    static readonly (string Id, string Title, string Text)[] Corpus =
    [
        ("paris", "Paris", "paris is the capital of france and sits on the seine"),
        ("nile", "Nile", "the nile is the longest river in africa"),
        ("python", "Python", "python is a programming language created by guido van rossum"),
        ("tokyo", "Tokyo", "tokyo is the capital of japan"),
    ];

    public async Task InitializeAsync()
    {
        await vectors.EnsureReadyAsync(encoder.Dimension);
        foreach (var tenant in new[] { "a", "b" })
            foreach (var (id, title, text) in Corpus)
            {
                var docId = $"{tenant}-{id}";
                stores.AddDocument(tenant, docId, title, text);
                await bm25.IndexDocumentAsync(tenant, docId, [], [new LexicalRecord($"{docId}:0", text)]);
                await vectors.UpsertAsync([new VectorRecord($"{docId}:0", tenant, docId, encoder.Embed(text), [])]);
            }
    }

    public async Task DisposeAsync()
    {
        await bm25.DisposeAsync();
        await vectors.DisposeAsync();
    }

    HybridRetriever Retriever(IEmbeddingGenerator<string, Embedding<float>>? questionEncoder) => new(questionEncoder, vectors, bm25, stores, stores);

    DprEmbeddingGenerator Generator() => new(encoder, "hashing-test-double", ownsModel: false);

    [Fact]
    public async Task Without_an_encoder_every_mode_is_bm25_with_the_notice()
    {
        var retriever = Retriever(null);
        Assert.False(retriever.HasDenseEncoder);
        foreach (var mode in Enum.GetValues<RetrievalMode>())
        {
            var result = await retriever.RetrieveAsync(new RetrievalRequest("longest river in africa", new SearchFilter("a"), 2, mode));
            Assert.Equal(RetrievalMode.Bm25, result.Mode);
            Assert.Equal("No question encoder is configured: BM25-only retrieval.", result.Notice);
            Assert.Equal("a-nile:0", result.Passages[0].Chunk.Id);
            Assert.Equal("Nile", result.Passages[0].DocumentTitle);
            Assert.Equal(1, result.Passages[0].LexicalRank);
            Assert.Null(result.Passages[0].DenseRank);
            Assert.True(result.Elapsed > TimeSpan.Zero);
        }
    }

    [Fact]
    public async Task Dense_mode_ranks_by_the_vector_index()
    {
        var result = await Retriever(Generator()).RetrieveAsync(new RetrievalRequest("capital of japan", new SearchFilter("a"), 3, RetrievalMode.Dense));
        Assert.Equal(RetrievalMode.Dense, result.Mode);
        Assert.Null(result.Notice);
        Assert.Equal(3, result.Passages.Count);
        Assert.Equal("a-tokyo:0", result.Passages[0].Chunk.Id);
        Assert.All(result.Passages, p => Assert.Null(p.LexicalRank));
        Assert.Equal([1, 2, 3], result.Passages.Select(p => p.DenseRank!.Value));
        Assert.True(result.Passages[0].Score >= result.Passages[1].Score && result.Passages[1].Score >= result.Passages[2].Score);
    }

    [Fact]
    public async Task Hybrid_mode_fuses_both_rankings()
    {
        var result = await Retriever(Generator()).RetrieveAsync(new RetrievalRequest("capital of france", new SearchFilter("a"), 4));
        Assert.Equal(RetrievalMode.Hybrid, result.Mode);
        Assert.Equal("a-paris:0", result.Passages[0].Chunk.Id);
        Assert.Equal(1, result.Passages[0].DenseRank);
        Assert.Equal(1, result.Passages[0].LexicalRank);
        Assert.Equal(1f, result.Passages[0].Score, 6); // top of both lists: w * 1 + (1 - w) * 1 under min-max fusion
        Assert.Equal(4, result.Passages.Count);
        Assert.Equal(FusionMethod.MinMax, HybridRetriever.DefaultFusion);
    }

    [Fact]
    public async Task Filters_keep_to_the_tenant_and_documents()
    {
        var retriever = Retriever(Generator());
        foreach (var mode in Enum.GetValues<RetrievalMode>())
        {
            var onlyB = await retriever.RetrieveAsync(new RetrievalRequest("capital", new SearchFilter("b"), 10, mode));
            Assert.NotEmpty(onlyB.Passages);
            Assert.All(onlyB.Passages, p => Assert.Equal("b", p.Chunk.TenantId));
            var narrowed = await retriever.RetrieveAsync(new RetrievalRequest("capital", new SearchFilter("a", DocumentIds: ["a-nile"]), 10, mode));
            Assert.All(narrowed.Passages, p => Assert.Equal("a-nile", p.Chunk.DocumentId));
        }
    }

    [Fact]
    public async Task A_chunk_deleted_from_the_store_is_skipped()
    {
        await stores.DeleteAsync("a", "a-paris");
        var result = await Retriever(null).RetrieveAsync(new RetrievalRequest("capital of france", new SearchFilter("a"), 1));
        Assert.Equal("a-tokyo:0", Assert.Single(result.Passages).Chunk.Id);
    }

    [Fact]
    public async Task A_chunk_whose_document_row_is_gone_is_skipped_and_the_next_taken()
    {
        stores.RemoveDocumentRowOnly("a", "a-paris");
        var result = await Retriever(null).RetrieveAsync(new RetrievalRequest("capital of france", new SearchFilter("a"), 1));
        Assert.Equal(("a-tokyo:0", "Tokyo"), (Assert.Single(result.Passages).Chunk.Id, result.Passages[0].DocumentTitle));
    }

    [Theory]
    [InlineData(RetrievalMode.Bm25)]
    [InlineData(RetrievalMode.Hybrid)]
    public async Task Titles_of_all_passages_come_from_one_document_read(RetrievalMode mode)
    {
        var result = await Retriever(Generator()).RetrieveAsync(new RetrievalRequest("the capital river language", new SearchFilter("a"), 4, mode));

        Assert.Equal(4, result.Passages.Count);
        Assert.All(result.Passages, p => Assert.Equal(Corpus.Single(c => "a-" + c.Id == p.Chunk.DocumentId).Title, p.DocumentTitle));
        Assert.Equal(1, stores.DocumentReads);
    }

    [Fact]
    public async Task Empty_query_or_k_zero_return_nothing()
    {
        Assert.Empty((await Retriever(null).RetrieveAsync(new RetrievalRequest("  ", new SearchFilter("a")))).Passages);
        Assert.Empty((await Retriever(null).RetrieveAsync(new RetrievalRequest("nile", new SearchFilter("a"), 0))).Passages);
    }

    [Fact]
    public void Candidate_pool_is_larger_than_k()
    {
        Assert.Equal(50, HybridRetriever.CandidatesFor(5));
        Assert.Equal(200, HybridRetriever.CandidatesFor(50));
    }
}
