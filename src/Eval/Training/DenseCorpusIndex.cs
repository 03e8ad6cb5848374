using System.Numerics.Tensors;
using Rag.Neural;

namespace Rag.Eval.Training;

/// <summary>
/// Every corpus passage embedded by a context encoder, searched exactly (each passage scored): the reference that
/// before/after scoring and hard-negative mining both rank with, with the encoders' prompts as the service embeds.
/// </summary>
public sealed class DenseCorpusIndex
{
    const int Batch = 64;
    readonly IReadOnlyList<CorpusDocument> _corpus;
    readonly float[][] _vectors;

    DenseCorpusIndex(IReadOnlyList<CorpusDocument> corpus, float[][] vectors) => (_corpus, _vectors) = (corpus, vectors);

    public static DenseCorpusIndex Build(ITextEncoderModel context, IReadOnlyList<CorpusDocument> corpus, IProgress<int>? embedded = null, CancellationToken ct = default)
    {
        var vectors = new List<float[]>(corpus.Count);
        foreach (var chunk in corpus.Chunk(Batch))
        {
            vectors.AddRange(context.Encode(chunk.Select(d => context.Prompts.Document + d.Text).ToList(), ct));
            embedded?.Report(vectors.Count);
        }
        return new DenseCorpusIndex(corpus, [.. vectors]);
    }

    /// <summary>The ids of the k best passages for each question, best first.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Search(ITextEncoderModel question, IReadOnlyList<string> questions, int k, CancellationToken ct = default)
    {
        var results = new List<IReadOnlyList<string>>(questions.Count);
        var scores = new float[_vectors.Length];
        var order = new int[_vectors.Length];
        foreach (var chunk in questions.Chunk(Batch))
        {
            foreach (var v in question.Encode(chunk.Select(q => question.Prompts.Query + q).ToList(), ct))
            {
                for (int j = 0; j < _vectors.Length; j++) { scores[j] = -TensorPrimitives.Dot(v, _vectors[j]); order[j] = j; }
                Array.Sort(scores, order); // ascending negated scores: best first, ties in corpus order
                results.Add(order.Take(Math.Min(k, order.Length)).Select(j => _corpus[j].Id).ToList());
            }
        }
        return results;
    }
}
