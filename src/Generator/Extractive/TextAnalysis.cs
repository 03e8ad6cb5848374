using System.Collections.Frozen;
using System.Globalization;
using System.Text;
using Rag.Tokenizers.Analysis;

namespace Rag.Generator.Extractive;

/// <summary>A sentence of a text, with its UTF-16 span in that text.</summary>
public readonly record struct SentenceSpan(int Start, int Length)
{
    public int End => Start + Length;
}

/// <summary>
/// The small amount of language handling the generator needs without a model: sentence splitting,
/// and content words (lower-cased, stop words removed, Porter-stemmed so "opened" meets "open").
/// </summary>
public static class TextAnalysis
{
    // BM25's question set (function words, question words, clitics) and the pronouns, quantifiers and auxiliaries
    // that carry no topic either; question words are stop words so "who founded X" matches on "founded X".
    static readonly FrozenSet<string> StopWords = FrozenSet.ToFrozenSet(EnglishStopWords.Question.Concat(
    [
        "about", "above", "after", "again", "against", "all", "also", "am", "any", "because", "before", "being", "below",
        "between", "both", "can", "could", "doing", "down", "during", "each", "few", "further", "having", "he", "her",
        "here", "hers", "herself", "him", "himself", "his", "i", "itself", "just", "me", "more", "most", "my", "myself",
        "nor", "now", "off", "once", "only", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she",
        "should", "so", "some", "than", "theirs", "them", "themselves", "those", "through", "too", "under", "until",
        "up", "very", "we", "while", "would", "you", "your", "yours", "yourself", "yourselves", "tell", "please",
        "many", "much", "one", "ones",
    ]), StringComparer.Ordinal);

    // Words that make a follow-up lean on an earlier turn ("when was it built?", "and the second one?").
    static readonly FrozenSet<string> Anaphora = FrozenSet.ToFrozenSet(
    [
        "it", "its", "itself", "they", "them", "their", "theirs", "this", "that", "these", "those", "he", "him",
        "his", "she", "her", "hers", "there", "one", "ones", "former", "latter", "same", "else", "more", "other",
    ], StringComparer.Ordinal);

    // Abbreviations whose full stop does not end a sentence.
    static readonly FrozenSet<string> Abbreviations = FrozenSet.ToFrozenSet(
    [
        "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "no", "fig", "approx", "inc",
        "ltd", "co", "corp", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "u.s", "u.k", "a.m", "p.m", "mt", "ft", "gen", "col", "gov", "rev", "vol", "pp", "ca", "cf",
    ], StringComparer.Ordinal);

    /// <summary>
    /// Splits at '.', '!' or '?' (with any closing quotes or brackets) followed by white space, except after
    /// abbreviations and initials or before a lower-case word, and at blank lines. Spans are trimmed of surrounding white space.
    /// </summary>
    public static IReadOnlyList<SentenceSpan> SplitSentences(string text)
    {
        var spans = new List<SentenceSpan>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var end = -1;
            if (c is '.' or '!' or '?' or '…')
            {
                var j = i + 1;
                while (j < text.Length && text[j] is '"' or '\'' or ')' or ']' or '”' or '’' or '.' or '!' or '?') j++;
                if ((j == text.Length || char.IsWhiteSpace(text[j])) && !(c == '.' && IsAbbreviation(text, i)) && !LowerCaseFollows(text, j))
                    end = j;
            }
            else if (c == '\n' && i + 1 < text.Length && IsBlankLineAhead(text, i + 1))
            {
                end = i + 1;
            }
            if (end < 0) continue;
            Add(spans, text, start, end);
            start = end;
            i = end - 1;
        }
        Add(spans, text, start, text.Length);
        return spans;
    }

    /// <summary>Content words in order of appearance (duplicates kept), as <see cref="Fold"/> leaves them.</summary>
    public static List<string> ContentWords(string text)
    {
        var words = new List<string>();
        foreach (var word in Words(text))
            if (IsContent(word, out var lower)) words.Add(PorterStemmer.Stem(lower));
        return words;
    }

    /// <summary>Content words with their original spelling, in order, the first of each stem only.</summary>
    public static List<string> ContentWordsAsWritten(string text)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var words = new List<string>();
        foreach (var word in Words(text))
            if (IsContent(word, out var lower) && seen.Add(PorterStemmer.Stem(lower))) words.Add(word);
        return words;
    }

    /// <summary>True when the text uses a word that points back at something said before.</summary>
    public static bool HasAnaphora(string text)
    {
        foreach (var word in Words(text))
            if (Anaphora.Contains(word.ToLowerInvariant())) return true;
        return false;
    }

    /// <summary>True when the word is a pronoun that points back ("It was built in 1889").</summary>
    /// <summary>
    /// Text that reads as code or a command synopsis rather than prose: syntax punctuation ([ ] { } | &lt; &gt; ; =)
    /// in numbers prose does not use (at least three, and one per five words), or a line made mostly of upper-case
    /// keywords ("TRUNCATE [ TABLE ] [ ONLY ] name"). Extraction keeps such blocks as lines, so a sentence split from
    /// one carries its marks.
    /// </summary>
    public static bool LooksPreformatted(string text)
    {
        int syntax = 0;
        foreach (var ch in text) if (ch is '[' or ']' or '{' or '}' or '|' or '<' or '>' or ';' or '=') syntax++;
        var words = Words(text).ToList();
        if (words.Count == 0) return syntax > 0;
        if (syntax >= 3 && syntax * 5 >= words.Count) return true;
        int keywords = words.Count(w => w.Length > 1 && w.All(c => char.IsUpper(c) || c == '_'));
        return words.Count >= 3 && keywords * 2 > words.Count;
    }

    /// <summary>A term or heading line rather than a sentence: at most five words and no closing punctuation.</summary>
    public static bool IsLabel(string text)
    {
        var t = text.TrimEnd();
        if (t.Length == 0 || t[^1] is '.' or '!' or '?' or ':' or ';' or ')' or '"' or '\u201D') return false;
        var words = Words(t).Count();
        return words is > 0 and <= 5;
    }

    static readonly string[] SyntaxCues = ["syntax", "synopsis", "code", "snippet", "signature", "usage", "example"];

    /// <summary>The question asks for syntax or code itself ("What is the syntax of TRUNCATE?"), so code may answer it.</summary>
    public static bool AsksForSyntax(string question) =>
        Words(question).Any(w => SyntaxCues.Contains(Lower(w), StringComparer.Ordinal));

    public static bool IsAnaphor(string word) => Anaphora.Contains(word.ToLowerInvariant());

    /// <summary>A word as content words are compared: lower-cased, possessive dropped, Porter-stemmed ("Rivers'" -> "river").</summary>
    public static string Fold(string word) => PorterStemmer.Stem(Lower(word));

    static bool IsContent(string word, out string lower)
    {
        lower = Lower(word);
        return lower.Length > 0 && !StopWords.Contains(lower);
    }

    static string Lower(string word)
    {
        var w = word.ToLowerInvariant();
        return w.EndsWith("'s", StringComparison.Ordinal) || w.EndsWith("’s", StringComparison.Ordinal) ? w[..^2] : w;
    }

    /// <summary>Runs of letters and digits (apostrophes inside a word kept), as written.</summary>
    public static IEnumerable<string> Words(string text)
    {
        var sb = new StringBuilder();
        for (var i = 0; i <= text.Length; i++)
        {
            var c = i < text.Length ? text[i] : ' ';
            var inWord = char.IsLetterOrDigit(c)
                || (c is '\'' or '’' && sb.Length > 0 && i + 1 < text.Length && char.IsLetter(text[i + 1]))
                || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark;
            if (inWord) { sb.Append(c); continue; }
            if (sb.Length == 0) continue;
            yield return sb.ToString();
            sb.Clear();
        }
    }

    static bool IsAbbreviation(string text, int dot)
    {
        var s = dot;
        while (s > 0 && (char.IsLetter(text[s - 1]) || text[s - 1] == '.')) s--;
        var word = text[s..dot].ToLowerInvariant();
        // A single capital ("J. Smith") is an initial; a lone lower-case letter is rare enough to be one too.
        return word.Length == 1 && char.IsLetter(word[0]) || Abbreviations.Contains(word);
    }

    // "5 p.m. on Monday": a sentence does not start in lower case.
    static bool LowerCaseFollows(string text, int from)
    {
        while (from < text.Length && text[from] is ' ' or '\t') from++;
        return from < text.Length && char.IsLower(text[from]);
    }

    static bool IsBlankLineAhead(string text, int from)
    {
        for (var j = from; j < text.Length; j++)
        {
            if (text[j] == '\n') return true;
            if (!char.IsWhiteSpace(text[j])) return false;
        }
        return false;
    }

    static void Add(List<SentenceSpan> spans, string text, int start, int end)
    {
        while (start < end && char.IsWhiteSpace(text[start])) start++;
        while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        if (end > start) spans.Add(new SentenceSpan(start, end - start));
    }
}
