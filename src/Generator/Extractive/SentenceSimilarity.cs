using System.Numerics.Tensors;
using Microsoft.Extensions.AI;

namespace Rag.Generator.Extractive;

/// <summary>
/// How well each candidate sentence answers the question, as the dual encoder sees it: cos(q, s), with the question
/// through the question tower (its query prompt included) and the sentences through the context tower, as passages
/// go. Cosine rather than the dot product, so that a DPR folder (unnormalised) and the built-in models compare alike.
/// </summary>
public sealed class SentenceSimilarity(
    IEmbeddingGenerator<string, Embedding<float>> questionEncoder, IEmbeddingGenerator<string, Embedding<float>> contextEncoder)
{
    public async Task<float[]> ScoreAsync(string question, IReadOnlyList<string> sentences, CancellationToken ct)
    {
        if (sentences.Count == 0) return [];
        var q = (await questionEncoder.GenerateAsync([question], null, ct).ConfigureAwait(false))[0].Vector.Span.ToArray();
        var embedded = await contextEncoder.GenerateAsync(sentences, null, ct).ConfigureAwait(false);
        var scores = new float[sentences.Count];
        for (var i = 0; i < scores.Length; i++)
            scores[i] = TensorPrimitives.CosineSimilarity(q, embedded[i].Vector.Span);
        return scores;
    }
}
