using Rag.Retriever;

namespace Rag.Eval;

/// <summary>
/// The corpus as stored: StoredToCorpus maps a stored document id to its corpus id (how retrieved chunks are
/// scored against gold ids); Aliases maps a corpus id whose text duplicates another's to the one that was stored
/// (the store keeps identical bytes once); Problems lists documents that could not be indexed.
/// </summary>
public sealed record IndexedCorpus(
    IReadOnlyDictionary<string, string> StoredToCorpus,
    IReadOnlyDictionary<string, string> Aliases,
    IReadOnlyList<DatasetWarning> Problems);

/// <summary>Puts a dataset's corpus into a tenant and waits until it is searchable.</summary>
public interface IEvalCorpusIndexer
{
    Task<IndexedCorpus> EnsureIndexedAsync(string tenantId, IReadOnlyList<CorpusDocument> corpus, IProgress<EvalProgress>? progress, CancellationToken ct);
}

/// <summary>A generated answer as the harness scores it. CitedNumbers are 1-based into the passages given.</summary>
public sealed record EvalAnswer(string Text, IReadOnlyList<int> CitedNumbers, int TokenCount, TimeSpan GenerationTime);

/// <summary>Answers one question from its top passages (the chat's answerer, seen through this seam).</summary>
public interface IEvalAnswerer
{
    Task<EvalAnswer> AnswerAsync(string question, IReadOnlyList<RetrievedPassage> passages, CancellationToken ct);
}
