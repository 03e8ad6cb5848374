namespace Rag.Tokenizers;

/// <summary>A token and the characters of the original text it came from: text[Start..End).</summary>
public readonly record struct TokenSpan(int Id, int Start, int End);

/// <summary>
/// Model inputs for a batch of texts, row-major (BatchSize, SequenceLength) so they map onto tensors as they are.
/// Rows are [CLS] a [SEP] (b [SEP]) followed by padding.
/// </summary>
public sealed class EncodedBatch
{
    public EncodedBatch(int batchSize, int sequenceLength, int[] inputIds, int[] attentionMask, int[] tokenTypeIds)
    {
        int n = batchSize * sequenceLength;
        if (inputIds.Length != n || attentionMask.Length != n || tokenTypeIds.Length != n)
            throw new ArgumentException($"Every array must hold {batchSize} x {sequenceLength} = {n} entries.");
        BatchSize = batchSize;
        SequenceLength = sequenceLength;
        InputIds = inputIds;
        AttentionMask = attentionMask;
        TokenTypeIds = tokenTypeIds;
    }

    public int BatchSize { get; }

    public int SequenceLength { get; }

    /// <summary>(BatchSize, SequenceLength) token ids, padded with the pad id.</summary>
    public int[] InputIds { get; }

    /// <summary>(BatchSize, SequenceLength): 1 for real tokens, 0 for padding.</summary>
    public int[] AttentionMask { get; }

    /// <summary>(BatchSize, SequenceLength): 0 for [CLS] a [SEP], 1 for b [SEP] of a pair, 0 for padding.</summary>
    public int[] TokenTypeIds { get; }

    /// <summary>The ids of one row, padding included.</summary>
    public ReadOnlySpan<int> Row(int row) => InputIds.AsSpan(row * SequenceLength, SequenceLength);

    /// <summary>Number of real (unpadded) tokens in a row.</summary>
    public int Length(int row)
    {
        var mask = AttentionMask.AsSpan(row * SequenceLength, SequenceLength);
        int n = 0;
        foreach (var m in mask) n += m;
        return n;
    }
}
