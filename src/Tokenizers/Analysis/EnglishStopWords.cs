using System.Collections.Frozen;

namespace Rag.Tokenizers.Analysis;

/// <summary>
/// English stop-word sets. BM25's analyzer names the set it used in its index files (TextAnalyzer.Name: "q" is
/// <see cref="Question"/>), so a change to a set here must change that name too.
/// </summary>
public static class EnglishStopWords
{
    /// <summary>Lucene's EnglishAnalyzer stop set (ENGLISH_STOP_WORDS_SET).</summary>
    public static IReadOnlySet<string> Lucene { get; } = FrozenSet.ToFrozenSet(
    [
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it", "no", "not", "of",
        "on", "or", "such", "that", "the", "their", "then", "there", "these", "they", "this", "to", "was", "will", "with",
    ], StringComparer.Ordinal);

    /// <summary>Lucene's set, question words and auxiliaries, and the clitics left by splitting on apostrophes.</summary>
    public static IReadOnlySet<string> Question { get; } = FrozenSet.ToFrozenSet(Lucene.Concat(
    [
        "what", "which", "who", "whom", "whose", "when", "where", "why", "how", "did", "do", "does", "were", "been", "has",
        "have", "had", "its", "from", "s", "t", "d", "ll", "re", "ve", "m",
    ]), StringComparer.Ordinal);
}
