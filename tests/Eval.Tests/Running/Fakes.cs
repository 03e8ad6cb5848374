using Rag.Retriever;
using Rag.Storage;

namespace Rag.Eval.Tests.Running;

/// <summary>A tiny JSONL dataset: four documents, five questions.</summary>
internal static class TinyDataset
{
    public static async Task<string> WriteAsync(string dir)
    {
        await File.WriteAllLinesAsync(Path.Combine(dir, "corpus.jsonl"),
        [
            """{"_id": "paris", "title": "Paris", "text": "Paris is the capital of France."}""",
            """{"_id": "rome", "title": "Rome", "text": "Rome is the capital of Italy."}""",
            """{"_id": "berlin", "title": "Berlin", "text": "Berlin is the capital of Germany."}""",
            """{"_id": "madrid", "title": "Madrid", "text": "Madrid is the capital of Spain."}""",
        ]);
        var questions = Path.Combine(dir, "questions.jsonl");
        await File.WriteAllLinesAsync(questions,
        [
            """{"id": "q1", "question": "capital of France", "answers": ["Paris"], "gold_document_ids": ["paris"]}""",
            """{"id": "q2", "question": "capital of Italy", "answers": ["Rome"], "gold_document_ids": ["rome"]}""",
            """{"id": "q3", "question": "capital of Germany", "answers": ["Berlin"], "gold_document_ids": ["berlin"]}""",
            """{"id": "q4", "question": "capital of Spain", "answers": ["Madrid"], "gold_document_ids": ["madrid"]}""",
            """{"id": "q5", "question": "capital of Portugal", "answers": ["Lisbon"], "gold_document_ids": ["lisbon"]}""",
            """not json""",
        ]);
        return questions;
    }
}

/// <summary>Stores the corpus nowhere: stored id = "s-" + corpus id.</summary>
internal sealed class FakeIndexer : IEvalCorpusIndexer
{
    public int Calls;

    public Task<IndexedCorpus> EnsureIndexedAsync(string tenantId, IReadOnlyList<CorpusDocument> corpus, IProgress<EvalProgress>? progress, CancellationToken ct)
    {
        Interlocked.Increment(ref Calls);
        progress?.Report(new EvalProgress(EvalPhase.Ingesting, corpus.Count, corpus.Count, "indexed"));
        return Task.FromResult(new IndexedCorpus(corpus.ToDictionary(d => "s-" + d.Id, d => d.Id), new Dictionary<string, string>(), []));
    }
}

/// <summary>
/// Ranks the documents whose text shares the question's last word first, the rest after in a fixed order;
/// "Portugal" throws. Can cancel a token after a number of calls, to stop a run midway.
/// </summary>
internal sealed class FakeRetriever(bool hasDenseEncoder = false) : IRetriever
{
    static readonly (string Id, string Text)[] Docs =
    [
        ("paris", "Paris is the capital of France."), ("rome", "Rome is the capital of Italy."),
        ("berlin", "Berlin is the capital of Germany."), ("madrid", "Madrid is the capital of Spain."),
    ];

    public int Calls;
    public int CancelAfter = int.MaxValue;
    public CancellationTokenSource? ToCancel;

    /// <summary>CPU work per call (Thread.SpinWait iterations): workers then overlap as they do over a real index.</summary>
    public int Spin;

    public bool HasDenseEncoder => hasDenseEncoder;

    public Task<RetrievalResult> RetrieveAsync(RetrievalRequest request, CancellationToken ct = default)
    {
        if (Interlocked.Increment(ref Calls) > CancelAfter) ToCancel?.Cancel();
        if (Spin > 0) Thread.SpinWait(Spin);
        ct.ThrowIfCancellationRequested();
        var word = request.Query.Split(' ')[^1];
        if (word == "Portugal") throw new InvalidOperationException("index unavailable");
        var ranked = Docs.OrderBy(d => d.Text.Contains(word) ? 0 : 1).Take(request.K)
            .Select((d, i) => new RetrievedPassage(new ChunkRecord("s-" + d.Id, request.Filter.TenantId, 0, d.Text, 0, d.Text.Length, null, null), d.Id, 10f - i, null, i + 1))
            .ToList();
        return Task.FromResult(new RetrievalResult(ranked, request.Mode, null, TimeSpan.Zero));
    }
}

/// <summary>Answers with the first passage's first word and cites [1] and [2].</summary>
internal sealed class FakeAnswerer : IEvalAnswerer
{
    public Task<EvalAnswer> AnswerAsync(string question, IReadOnlyList<RetrievedPassage> passages, CancellationToken ct) =>
        Task.FromResult(new EvalAnswer(passages[0].Chunk.Text.Split(' ')[0], [1, 2], 4, TimeSpan.FromMilliseconds(2)));
}

internal sealed class ListProgress : IProgress<EvalProgress>
{
    readonly List<EvalProgress> _items = [];
    public void Report(EvalProgress value) { lock (_items) _items.Add(value); }
    public List<EvalProgress> Items { get { lock (_items) return [.. _items]; } }
}

/// <summary>The fake retriever held at every call until <paramref name="release"/> completes: keeps a run in flight while a test starts another.</summary>
internal sealed class GatedRetriever(Task release) : IRetriever
{
    readonly FakeRetriever _inner = new();
    readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes when the first question reaches the retriever.</summary>
    public Task Entered => _entered.Task;

    public bool HasDenseEncoder => false;

    public async Task<RetrievalResult> RetrieveAsync(RetrievalRequest request, CancellationToken ct = default)
    {
        _entered.TrySetResult();
        await release.WaitAsync(ct);
        return await _inner.RetrieveAsync(request, ct);
    }
}

/// <summary>
/// The test's store, except that once <see cref="Gone"/> is set an eval run's update throws KeyNotFoundException as
/// SqlEvalRunStore does for a missing row, while reads still find it: the row deleted between a read and a write.
/// </summary>
internal sealed class VanishingRunStore(IRagStore inner) : IRagStore, IEvalRunStore
{
    public volatile bool Gone;

    public ITenantStore Tenants => inner.Tenants;
    public IDocumentStore Documents => inner.Documents;
    public IChunkStore Chunks => inner.Chunks;
    public IChatStore Chats => inner.Chats;
    public IJobQueue Jobs => inner.Jobs;
    public IBlobStore Blobs => inner.Blobs;
    public IEvalRunStore EvalRuns => this;
    public Task CheckHealthAsync(CancellationToken ct = default) => inner.CheckHealthAsync(ct);
    public ValueTask DisposeAsync() => ValueTask.CompletedTask; // the inner store belongs to the test

    public Task<EvalRunRecord> CreateAsync(EvalRunRecord run, CancellationToken ct = default) => inner.EvalRuns.CreateAsync(run, ct);
    public Task<EvalRunRecord?> GetAsync(string tenantId, string id, CancellationToken ct = default) => inner.EvalRuns.GetAsync(tenantId, id, ct);
    public Task<IReadOnlyList<EvalRunRecord>> ListAsync(string tenantId, int limit = 50, CancellationToken ct = default) => inner.EvalRuns.ListAsync(tenantId, limit, ct);

    public Task UpdateAsync(EvalRunRecord run, CancellationToken ct = default) =>
        Gone ? throw new KeyNotFoundException($"Eval run '{run.Id}' does not exist in tenant '{run.TenantId}'.") : inner.EvalRuns.UpdateAsync(run, ct);
}
