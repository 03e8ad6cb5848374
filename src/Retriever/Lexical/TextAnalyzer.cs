using System.Globalization;
using System.Text;
using Rag.Tokenizers.Analysis;

namespace Rag.Retriever.Lexical;

public enum EnglishStemmer
{
    None,
    /// <summary>Harman's S-stemmer (1991): plural endings only.</summary>
    SStemmer,
    /// <summary>Porter (1980).</summary>
    Porter,
}

/// <summary>
/// Text to index terms: NFKC (see Folding), invariant lower case, Latin diacritics folded (é → e), tokens are runs of
/// letters, marks and digits (\p{L}\p{M}\p{N}); each Han, Hiragana or Katakana character is a token of
/// its own (no word spaces in those scripts); English stop words dropped; an optional light stemmer.
/// </summary>
public sealed class TextAnalyzer
{
    /// <summary>Lucene's EnglishAnalyzer stop set (ENGLISH_STOP_WORDS_SET).</summary>
    public static IReadOnlySet<string> LuceneStopWords => EnglishStopWords.Lucene;

    /// <summary>Lucene's set, question words and auxiliaries, and the clitics left by splitting on apostrophes.</summary>
    public static IReadOnlySet<string> QuestionStopWords => EnglishStopWords.Question;

    readonly IReadOnlySet<string> stopWords;

    // Porter measured best on SQuAD v1.1 dev (bench/Retriever.Bench): recall@5 0.938 vs 0.928 (S-stemmer) and 0.918 (none).
    public static TextAnalyzer Default { get; } = new(EnglishStemmer.Porter);

    public EnglishStemmer Stemmer { get; }

    /// <summary>Names the analysis so an index built with another one is detected.</summary>
    public string Name => $"v1-{Stemmer}-{StopWordsName}";

    public TextAnalyzer(EnglishStemmer stemmer, IReadOnlySet<string>? stopWords = null, string stopWordsName = "q")
    {
        Stemmer = stemmer;
        this.stopWords = stopWords ?? QuestionStopWords;
        StopWordsName = stopWords is null ? "q" : stopWordsName;
    }

    /// <summary>Names the stop-word set in <see cref="Name"/>.</summary>
    public string StopWordsName { get; }

    public List<string> Analyze(string text)
    {
        var terms = new List<string>();
        if (string.IsNullOrEmpty(text)) return terms;
        if (Folding.HasNormalization && !text.IsNormalized(NormalizationForm.FormKC)) text = text.Normalize(NormalizationForm.FormKC);
        var token = new StringBuilder();
        foreach (var rune in text.EnumerateRunes())
        {
            if (rune.IsBmp && Folding.TryFold((char)rune.Value, out var folded))
            {
                foreach (var r in folded.EnumerateRunes()) Add(r, token, terms);
                continue;
            }
            // A combining accent on a Latin letter (decomposed input) is dropped like the precomposed ones.
            if (rune.Value is >= 0x0300 and <= 0x036F && token.Length > 0 && token[^1] < 0x0250) continue;
            Add(rune, token, terms);
        }
        Emit(token, terms);
        return terms;
    }

    void Add(Rune rune, StringBuilder token, List<string> terms)
    {
        if (IsCjk(rune))
        {
            Emit(token, terms);
            terms.Add(rune.ToString());
        }
        else if (IsTokenChar(Rune.GetUnicodeCategory(rune))) token.Append(Rune.ToLowerInvariant(rune).ToString());
        else Emit(token, terms);
    }

    void Emit(StringBuilder token, List<string> terms)
    {
        if (token.Length == 0) return;
        var term = token.ToString();
        token.Clear();
        if (stopWords.Contains(term)) return;
        terms.Add(Stemmer switch
        {
            EnglishStemmer.SStemmer => SStem(term),
            EnglishStemmer.Porter => PorterStemmer.Stem(term),
            _ => term,
        });
    }

    static bool IsTokenChar(UnicodeCategory c) => c switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => true,
        _ => false,
    };

    static bool IsCjk(Rune r) => r.Value switch
    {
        >= 0x3040 and <= 0x30FF => true,   // Hiragana, Katakana
        >= 0x3400 and <= 0x4DBF => true,   // CJK Extension A
        >= 0x4E00 and <= 0x9FFF => true,   // CJK Unified Ideographs
        >= 0xF900 and <= 0xFAFF => true,   // CJK Compatibility Ideographs
        >= 0x20000 and <= 0x2FFFF => true, // CJK Extensions B..F
        _ => false,
    };

    /// <summary>Harman (1991), "How effective is suffixing?", JASIS 42(1): the three plural rules, first match wins.</summary>
    internal static string SStem(string w)
    {
        if (w.Length <= 3) return w;
        if (w.EndsWith("ies", StringComparison.Ordinal) && !w.EndsWith("eies", StringComparison.Ordinal) && !w.EndsWith("aies", StringComparison.Ordinal))
            return w[..^3] + "y";
        if (w.EndsWith("es", StringComparison.Ordinal) && !w.EndsWith("aes", StringComparison.Ordinal) && !w.EndsWith("ees", StringComparison.Ordinal) && !w.EndsWith("oes", StringComparison.Ordinal))
            return w[..^1];
        if (w.EndsWith('s') && !w.EndsWith("us", StringComparison.Ordinal) && !w.EndsWith("ss", StringComparison.Ordinal))
            return w[..^1];
        return w;
    }
}
