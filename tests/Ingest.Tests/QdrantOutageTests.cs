using System.Net;
using System.Net.Sockets;
using Rag.Retriever.Qdrant;
using Rag.Storage;
using Rag.Storage.Sqlite;
using Rag.Testing;

namespace Rag.Ingest.Tests;

/// <summary>
/// Qdrant unreachable while a document is ingested (the real Qdrant client on a closed local port, so no server is
/// needed): each attempt fails, the job goes back to the queue with its error and a back-off, the document stays queued
/// showing that error, and nothing is marked indexed without its vectors; once the attempts are spent both say failed.
/// That it then succeeds when Qdrant returns needs a real server, and is not tested here.
/// </summary>
public sealed class QdrantOutageTests
{
    [Fact]
    public async Task An_unreachable_qdrant_keeps_the_job_retrying_with_its_error_and_never_indexes_the_document()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var store = await SqliteRagStore.OpenAsync(dir.Path, clock);
        var tenant = (await store.Tenants.CreateTenantAsync("qdrant-down")).Id;
        var url = $"http://127.0.0.1:{ClosedPort()}";
        using var vectors = new QdrantVectorIndex(new QdrantOptions { Url = url, MaxRetries = 1, RetryBaseDelay = TimeSpan.FromMilliseconds(1), RequestTimeout = TimeSpan.FromSeconds(5) });
        var options = new IngestOptions { Chunking = new ChunkingOptions { MaxTokens = 32, OverlapTokens = 4 }, MaxAttempts = 4 };
        var lexical = new InMemoryLexicalIndex();
        var registry = ExtractorRegistry.CreateDefault(options);
        var pipeline = new IngestPipeline(store, registry, new TextChunker(options.Chunking, new WordTokenizer()), lexical, options, vectors, new FakeEmbedder());
        var ingestion = new DocumentIngestion(store, registry, lexical, options, vectors);
        var worker = new IngestWorker(store, [new IngestJobHandler(pipeline, store)], options);

        var submitted = await ingestion.SubmitAsync(tenant, DocumentUpload.FromText("orbits", Harness.Prose(20, "orbit")));
        var (documentId, jobId) = (submitted.Document.Id, submitted.JobId!);

        for (var attempt = 1; attempt <= options.MaxAttempts; attempt++)
        {
            Assert.True(await worker.RunOnceAsync(), $"attempt {attempt} was not leased");
            var job = (await store.Jobs.GetAsync(jobId))!;
            var document = (await store.Documents.GetAsync(tenant, documentId))!;
            Assert.Equal(attempt, job.Attempts);
            Assert.Contains($"Qdrant at {url} is not reachable", job.Error);
            Assert.Contains($"Qdrant at {url} is not reachable", document.Error);
            Assert.Equal(0, document.ChunkCount); // no chunk rows, no BM25 entries: nothing half-indexed
            Assert.Empty(lexical.Records(tenant, documentId));
            if (attempt < options.MaxAttempts)
            {
                Assert.Equal(JobStatus.Queued, job.Status);
                Assert.Equal(DocumentStatus.Queued, document.Status);
                Assert.Contains($"Attempt {attempt} of {options.MaxAttempts} failed, will retry", document.Error);
                Assert.True(job.RunAfter > clock.GetUtcNow(), "a retry waits out its back-off");
                Assert.False(await worker.RunOnceAsync(), "leased again before its back-off had passed");
                clock.Advance(job.RunAfter - clock.GetUtcNow() + TimeSpan.FromMilliseconds(1));
            }
            else
            {
                Assert.Equal(JobStatus.Failed, job.Status);
                Assert.Equal(DocumentStatus.Failed, document.Status);
            }
        }
        Assert.False(await worker.RunOnceAsync());
    }

    static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port; // closed again when disposed: connections are refused
    }

    sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        DateTimeOffset _now = start;
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}
