namespace Rag.Ingest;

/// <summary>How extracted text is cut into passages for the encoder and BM25.</summary>
public sealed record ChunkingOptions
{
    /// <summary>Most tokens in one chunk (special tokens excluded). DPR was trained on ~100-word passages; 256 tokens leaves room under BERT's 512.</summary>
    public int MaxTokens { get; init; } = 256;

    /// <summary>Tokens repeated from the end of one chunk at the start of the next, so a sentence cut at a boundary is whole in one of them.</summary>
    public int OverlapTokens { get; init; } = 32;

    public void Validate()
    {
        if (MaxTokens < 2) throw new ArgumentOutOfRangeException(nameof(MaxTokens), MaxTokens, "MaxTokens must be at least 2.");
        if (OverlapTokens < 0 || OverlapTokens > MaxTokens / 2)
            throw new ArgumentOutOfRangeException(nameof(OverlapTokens), OverlapTokens, "OverlapTokens must be between 0 and MaxTokens / 2.");
    }
}

/// <summary>A passage of extracted text: Text == source[Start..End] (UTF-16 offsets).</summary>
public sealed record TextChunk(int Ordinal, string Text, int Start, int End, int Tokens, string? HeadingPath, int? Page);
