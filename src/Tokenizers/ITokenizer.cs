namespace Rag.Tokenizers;

/// <summary>Text to token ids and back. Encode adds no special tokens; models add their own.</summary>
public interface ITokenizer
{
    int VocabularySize { get; }

    int[] Encode(string text);

    string Decode(ReadOnlySpan<int> ids);

    /// <summary>The number of tokens Encode would produce, without allocating the ids where possible.</summary>
    int CountTokens(string text);
}
