using Microsoft.Extensions.AI;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Ingest.Tests;

/// <summary>Ingestion wired over in-memory doubles, with knobs for injecting faults.</summary>
public sealed class Harness
{
    public const string Tenant = "t1";

    public InMemoryRagStore Store { get; } = new();
    public InMemoryVectorIndex Vectors { get; } = new();
    public InMemoryLexicalIndex Lexical { get; } = new();
    public FakeEmbedder Embedder { get; } = new();
    public IngestOptions Options { get; }
    public ExtractorRegistry Registry { get; }
    public IngestPipeline Pipeline { get; }
    public DocumentIngestion Ingestion { get; }

    public Harness(Action<IngestOptions>? configure = null, bool dense = true, IEmbeddingGenerator<string, Embedding<float>>? embedder = null)
    {
        Options = new IngestOptions { Chunking = new ChunkingOptions { MaxTokens = 32, OverlapTokens = 4 }, EmbeddingBatchSize = 4 };
        configure?.Invoke(Options);
        Registry = ExtractorRegistry.CreateDefault(Options);
        var chunker = new TextChunker(Options.Chunking, new WordTokenizer());
        Ingestion = new DocumentIngestion(Store, Registry, Lexical, Options, Vectors);
        Pipeline = new IngestPipeline(Store, Registry, chunker, Lexical, Options, Vectors, dense ? embedder ?? Embedder : null, documents: Ingestion);
    }

    public IngestWorker Worker(params IJobHandler[] extra) => new(Store, [new IngestJobHandler(Pipeline, Store), .. extra], Options);

    public Task<SubmitResult> SubmitTextAsync(string name, string text, string? externalId = null) =>
        Ingestion.SubmitAsync(Tenant, DocumentUpload.FromBytes(name, null, System.Text.Encoding.UTF8.GetBytes(text), externalId: externalId));

    /// <summary>Asserts the document is in every index exactly once: one vector and one lexical entry per chunk row, nothing else.</summary>
    public async Task AssertIndexedOnceAsync(string documentId)
    {
        var chunks = await Store.Chunks.GetChunksAsync(Tenant, documentId);
        Assert.NotEmpty(chunks);
        Assert.Equal(Enumerable.Range(0, chunks.Count), chunks.Select(c => c.Ordinal));
        var ids = chunks.Select(c => c.Id).Order().ToList();
        Assert.Equal(ids, Vectors.Records.Where(r => r.DocumentId == documentId).Select(r => r.ChunkId).Order().ToList());
        Assert.Equal(ids, Lexical.Records(Tenant, documentId).Select(r => r.ChunkId).Order().ToList());
        var doc = await Store.Documents.GetAsync(Tenant, documentId);
        Assert.Equal(DocumentStatus.Indexed, doc!.Status);
        Assert.Equal(chunks.Count, doc.ChunkCount);
    }

    public static string Prose(int sentences, string word = "alpha")
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < sentences; i++) sb.Append($"{word} sentence number {i} talks about item {i * 7 % 13}. ");
        return sb.ToString();
    }
}
