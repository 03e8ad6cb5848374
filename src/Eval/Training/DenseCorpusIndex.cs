using Rag.Neural;
using Rag.Retriever;
using Rag.Retriever.Vectors;

namespace Rag.Eval.Training;

/// <summary>
/// Every corpus passage embedded by a context encoder into the service's own exact kNN index, in memory: the reference
/// that before/after scoring and hard-negative mining both rank with, with the encoders' prompts as the service embeds.
/// Scores are raw dot products, so DPR towers rank as trained and normalised encoders by cosine.
/// </summary>
public sealed class DenseCorpusIndex : IAsyncDisposable
{
    const int Batch = 64;
    const string Tenant = "training";
    readonly EmbeddedVectorIndex _index;

    DenseCorpusIndex(EmbeddedVectorIndex index) => _index = index;

    public static async Task<DenseCorpusIndex> BuildAsync(ITextEncoderModel context, IReadOnlyList<CorpusDocument> corpus, CancellationToken ct = default)
    {
        var index = new EmbeddedVectorIndex(directory: null, VectorDistance.Dot);
        try
        {
            await index.EnsureReadyAsync(context.Dimension, ct);
            foreach (var chunk in corpus.OrderBy(d => d.Text.Length).Chunk(Batch)) // batches of similar length pad little
            {
                var vectors = context.Encode(chunk.Select(d => context.Prompts.Document + d.Text).ToList(), ct);
                await index.UpsertAsync([.. chunk.Select((d, i) => new VectorRecord(d.Id, Tenant, d.Id, vectors[i], []))], ct);
            }
            return new DenseCorpusIndex(index);
        }
        catch
        {
            await index.DisposeAsync();
            throw;
        }
    }

    /// <summary>The ids of the k best passages for each question, best first (ties in corpus order).</summary>
    public IReadOnlyList<IReadOnlyList<string>> Search(ITextEncoderModel question, IReadOnlyList<string> questions, int k, CancellationToken ct = default)
    {
        var filter = new SearchFilter(Tenant);
        var results = new List<IReadOnlyList<string>>(questions.Count);
        foreach (var chunk in questions.Chunk(Batch))
            foreach (var v in question.Encode(chunk.Select(q => question.Prompts.Query + q).ToList(), ct))
                results.Add(_index.Search(v, filter, k).Select(h => h.DocumentId).ToList());
        return results;
    }

    public ValueTask DisposeAsync() => _index.DisposeAsync();
}
