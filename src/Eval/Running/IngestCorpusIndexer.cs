using Rag.Ingest;
using Rag.Storage;

namespace Rag.Eval;

/// <summary>
/// Ingests the corpus the way users' documents are ingested: each document is submitted through
/// <see cref="DocumentIngestion"/> as text with ExternalId = its corpus id (an unchanged document is a duplicate
/// and is not queued again), then the ingest jobs are run in-process by <see cref="IngestWorker.RunOnceAsync(CancellationToken)"/>
/// on <paramref name="concurrency"/> slots until every document is Indexed or Failed. A worker elsewhere (the
/// service's hosted one) may take some of the jobs; completion is judged by the documents' status, not by who ran them.
/// </summary>
public sealed class IngestCorpusIndexer(IRagStore store, DocumentIngestion ingestion, IngestWorker worker, int concurrency) : IEvalCorpusIndexer
{
    static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public async Task<IndexedCorpus> EnsureIndexedAsync(string tenantId, IReadOnlyList<CorpusDocument> corpus, IProgress<EvalProgress>? progress, CancellationToken ct)
    {
        var problems = new List<DatasetWarning>();
        var storedToCorpus = new Dictionary<string, string>(StringComparer.Ordinal);
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        var pending = new HashSet<string>(StringComparer.Ordinal);

        for (var i = 0; i < corpus.Count; i++)
        {
            var doc = corpus[i];
            SubmitResult submitted;
            try
            {
                var title = string.IsNullOrWhiteSpace(doc.Title) ? doc.Id : doc.Title;
                submitted = await ingestion.SubmitAsync(tenantId, DocumentUpload.FromText(title, doc.Text, externalId: doc.Id), ct);
            }
            catch (IngestRejectedException e)
            {
                problems.Add(new DatasetWarning("corpus", 0, $"document {doc.Id} was refused by ingestion: {e.Message}"));
                continue;
            }
            var stored = submitted.Document;
            var owner = stored.ExternalId ?? doc.Id;
            storedToCorpus.TryAdd(stored.Id, owner);
            if (owner != doc.Id) aliases[doc.Id] = owner; // same text as an earlier corpus document
            if (stored.Status == DocumentStatus.Failed)
                await ingestion.ReingestAsync(tenantId, stored.Id, ct); // a failure of an earlier run gets another try
            if (stored.Status != DocumentStatus.Indexed) pending.Add(stored.Id);
            if (i % 50 == 49 || i == corpus.Count - 1)
                progress?.Report(new EvalProgress(EvalPhase.Ingesting, i + 1, corpus.Count, $"Submitting documents {i + 1}/{corpus.Count}"));
        }

        var total = storedToCorpus.Count;
        var failed = pending.Count > 0 ? await DrainAsync(tenantId, pending, total, problems, progress, ct) : 0;
        progress?.Report(new EvalProgress(EvalPhase.Ingesting, total, total, $"Indexed {total - failed}/{total} documents"));
        return new IndexedCorpus(storedToCorpus, aliases, problems);
    }

    /// <summary>Runs jobs until no document of <paramref name="pending"/> is waiting; returns how many failed.</summary>
    async Task<int> DrainAsync(string tenantId, HashSet<string> pending, int total, List<DatasetWarning> problems, IProgress<EvalProgress>? progress, CancellationToken ct)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Exception? fault = null;
        var slots = Enumerable.Range(0, Math.Max(1, concurrency)).Select(_ => Task.Run(async () =>
        {
            try
            {
                while (!done.IsCancellationRequested)
                    if (!await worker.RunOnceAsync(done.Token)) await Task.Delay(PollInterval, done.Token);
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                // The queue itself failed (a job's own failure is recorded by the worker and retried): stop the drain.
                Interlocked.CompareExchange(ref fault, e, null);
                await done.CancelAsync();
            }
        }, CancellationToken.None)).ToList();

        var failed = 0;
        try
        {
            while (pending.Count > 0)
            {
                await Task.Delay(PollInterval, done.Token);
                foreach (var d in await ListAsync(tenantId, done.Token))
                {
                    if (!pending.Contains(d.Id)) continue;
                    if (d.Status == DocumentStatus.Indexed) pending.Remove(d.Id);
                    else if (d.Status == DocumentStatus.Failed)
                    {
                        pending.Remove(d.Id);
                        failed++;
                        problems.Add(new DatasetWarning("corpus", 0, $"document {d.ExternalId ?? d.Id} failed to ingest: {d.Error}"));
                    }
                }
                progress?.Report(new EvalProgress(EvalPhase.Ingesting, total - pending.Count, total, $"Indexing documents {total - pending.Count}/{total}"));
            }
        }
        catch (OperationCanceledException) when (fault is not null && !ct.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Ingesting the eval corpus stopped: the job queue failed ({fault.Message}).", fault);
        }
        finally
        {
            await done.CancelAsync();
            await Task.WhenAll(slots);
        }
        return failed;
    }

    async Task<List<DocumentRecord>> ListAsync(string tenantId, CancellationToken ct)
    {
        const int PageSize = 1000;
        var all = new List<DocumentRecord>();
        for (var offset = 0; ; offset += PageSize)
        {
            var page = await store.Documents.ListAsync(tenantId, offset, PageSize, null, ct);
            all.AddRange(page.Items);
            if (page.Items.Count < PageSize || all.Count >= page.Total) return all;
        }
    }
}
