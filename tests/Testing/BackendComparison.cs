using Rag.Neural;
using Rag.Neural.Tensors;

namespace Rag.Testing;

/// <summary>
/// One encoder folder run on two backends with the same token ids: how far the final hidden states and the
/// embeddings differ. The CPU backend is the reference (its parity with PyTorch is pinned by fixtures), so this is
/// how a GPU backend is checked: by the CUDA tests where a GPU is present, and by bench/cuda.sh on a lent machine.
/// </summary>
public static class BackendComparison
{
    /// <param name="MaxHiddenError">Largest |a - b| over all hidden states, divided by the largest |a|.</param>
    /// <param name="MaxEmbeddingError">Largest |a - b| over the (normalised) embeddings.</param>
    /// <param name="MinCosine">Smallest cosine between a pair of embeddings.</param>
    public sealed record Result(int Batch, int SequenceLength, double MaxHiddenError, double MaxEmbeddingError, double MinCosine)
    {
        public override string ToString() =>
            $"{Batch} x {SequenceLength}: hidden states {MaxHiddenError:E2} (max |diff| / max |value|), embeddings {MaxEmbeddingError:E2} max |diff|, min cosine {MinCosine:F7}";
    }

    /// <summary>
    /// Random token ids (vocabulary ids 5.. after a [CLS] of 2) with ragged padding, as a batch of real texts has:
    /// row i keeps seq - (7 i mod (seq / 2 + 1)) tokens, so row 0 is full and the rest are shorter.
    /// </summary>
    public static (int[] Ids, int[] TypeIds, int[] Mask) Inputs(int batch, int seq, int vocabSize, int seed)
    {
        var random = new Random(seed);
        var ids = new int[batch * seq];
        var mask = new int[batch * seq];
        for (int b = 0; b < batch; b++)
        {
            int length = seq - 7 * b % (seq / 2 + 1);
            for (int t = 0; t < seq; t++)
            {
                bool real = t < length;
                ids[b * seq + t] = t == 0 ? 2 : real ? random.Next(5, vocabSize) : 0;
                mask[b * seq + t] = real ? 1 : 0;
            }
        }
        return (ids, new int[batch * seq], mask);
    }

    public static Result CompareEncoders(string folder, IBackend reference, IBackend candidate, int batch, int seq, int seed = 1)
    {
        using var expected = NeuralModels.LoadBertEncoder(folder, reference);
        using var actual = NeuralModels.LoadBertEncoder(folder, candidate);
        var (ids, types, mask) = Inputs(batch, seq, expected.Model.Config.VocabSize, seed);
        var hiddenA = Hidden(expected, reference, batch, seq, ids, types, mask);
        var hiddenB = Hidden(actual, candidate, batch, seq, ids, types, mask);
        double scale = hiddenA.Max(Math.Abs), hiddenError = 0;
        for (int i = 0; i < hiddenA.Length; i++) hiddenError = Math.Max(hiddenError, Math.Abs(hiddenA[i] - hiddenB[i]));
        var embeddingsA = expected.EncodeIds(batch, seq, ids, types, mask);
        var embeddingsB = actual.EncodeIds(batch, seq, ids, types, mask);
        double embeddingError = 0, minCosine = 1;
        for (int b = 0; b < batch; b++)
        {
            for (int j = 0; j < embeddingsA[b].Length; j++) embeddingError = Math.Max(embeddingError, Math.Abs(embeddingsA[b][j] - embeddingsB[b][j]));
            minCosine = Math.Min(minCosine, Cosine(embeddingsA[b], embeddingsB[b]));
        }
        return new Result(batch, seq, hiddenError / scale, embeddingError, minCosine);
    }

    public static double Cosine(float[] a, float[] b)
    {
        double dot = 0, normA = 0, normB = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; normA += a[i] * a[i]; normB += b[i] * b[i]; }
        return dot / Math.Sqrt(normA * normB);
    }

    static float[] Hidden(Rag.Neural.Models.BertTextEncoder encoder, IBackend backend, int batch, int seq, int[] ids, int[] types, int[] mask)
    {
        var state = encoder.Model.CreateState(batch * seq);
        var hidden = encoder.Model.Forward(state, batch, seq, ids, types, mask);
        var host = new float[hidden.Length];
        backend.CopyToHost(hidden, host);
        return host;
    }
}
