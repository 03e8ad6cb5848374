using System.Security.Cryptography;
using System.Text;
using Rag.Neural;
using Rag.Tokenizers;

namespace Rag.Testing;

/// <summary>Test double: a deterministic "encoder" that hashes each lower-cased word into one of Dimension buckets (a bag of words), L2-normalised.</summary>
public sealed class HashingEncoder(int dimension = 64) : ITextEncoderModel
{
    public int Dimension { get; } = dimension;
    public int MaxTokens => 512;
    public ITokenizer Tokenizer { get; } = new WhitespaceTokenizer();
    public EncoderPrompts Prompts { get; init; } = EncoderPrompts.None;
    public List<int> BatchSizes { get; } = [];
    public List<string> Seen { get; } = [];
    public int ManagedThreadOfLastBatch { get; private set; }
    public bool Disposed { get; private set; }

    /// <summary>Runs before each batch (tests use it to cancel midway).</summary>
    public Action<int>? BeforeBatch { get; set; }

    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken ct = default)
    {
        BeforeBatch?.Invoke(BatchSizes.Count);
        ct.ThrowIfCancellationRequested();
        BatchSizes.Add(texts.Count);
        Seen.AddRange(texts);
        ManagedThreadOfLastBatch = Environment.CurrentManagedThreadId;
        return [.. texts.Select(Embed)];
    }

    public float[] Embed(string text)
    {
        var v = new float[Dimension];
        foreach (var word in text.ToLowerInvariant().Split(' ', StringSplitOptions.RemoveEmptyEntries))
            v[BitConverter.ToUInt32(SHA256.HashData(Encoding.UTF8.GetBytes(word))) % (uint)Dimension] += 1f;
        var norm = MathF.Sqrt(v.Sum(x => x * x));
        if (norm > 0) for (var i = 0; i < v.Length; i++) v[i] /= norm;
        return v;
    }

    public void Dispose() => Disposed = true;

    sealed class WhitespaceTokenizer : ITokenizer
    {
        public int VocabularySize => 1;
        public int[] Encode(string text) => [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(_ => 0)];
        public string Decode(ReadOnlySpan<int> ids) => string.Join(' ', Enumerable.Repeat("w", ids.Length));
        public int CountTokens(string text) => Encode(text).Length;
    }
}
