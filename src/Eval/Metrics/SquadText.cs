using System.Globalization;
using System.Text;

namespace Rag.Eval;

/// <summary>
/// SQuAD's answer normalisation and its EM / token F1 (the official evaluate-v2.0.py: normalize_answer,
/// compute_exact, compute_f1; the best over the gold answers).
/// One deliberate extension: Unicode punctuation (“ ” ‘ ’ – — « » …) is stripped as well as ASCII's
/// string.punctuation, since the official script's ASCII-only set counts “Denver” and Denver as different.
/// </summary>
public static class SquadText
{
    const string AsciiPunctuation = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"; // Python's string.punctuation

    /// <summary>lower-case, strip punctuation, drop the articles a/an/the, collapse whitespace.</summary>
    public static string Normalize(string text) => string.Join(' ', Tokens(text));

    /// <summary>The normalised text's tokens (what compute_f1 counts).</summary>
    public static string[] Tokens(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text.ToLowerInvariant())
            if (!IsPunctuation(c)) sb.Append(c);
        // Articles are removed as whole words (\b(a|an|the)\b): once punctuation is gone, words are separated
        // by whitespace, so dropping the whitespace tokens "a", "an", "the" is the same thing.
        return sb.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Where(t => t is not ("a" or "an" or "the")).ToArray();
    }

    static bool IsPunctuation(char c) =>
        AsciiPunctuation.Contains(c) || (c > 127 && CharUnicodeInfo.GetUnicodeCategory(c) is
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation);

    /// <summary>1 when the normalised texts are equal, else 0.</summary>
    public static double ExactMatch(string prediction, string gold) => Normalize(prediction) == Normalize(gold) ? 1 : 0;

    /// <summary>Token F1: 2PR/(P+R) over the bag-of-tokens overlap; when either side is empty, 1 iff both are.</summary>
    public static double F1(string prediction, string gold)
    {
        var p = Tokens(prediction);
        var g = Tokens(gold);
        if (p.Length == 0 || g.Length == 0) return p.Length == g.Length ? 1 : 0;
        var goldCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var t in g) goldCounts[t] = goldCounts.GetValueOrDefault(t) + 1;
        var same = 0;
        foreach (var t in p)
            if (goldCounts.TryGetValue(t, out var n) && n > 0) { same++; goldCounts[t] = n - 1; }
        if (same == 0) return 0;
        double precision = (double)same / p.Length, recall = (double)same / g.Length;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>The best EM over the gold answers (0 when there are none).</summary>
    public static double MaxExactMatch(string prediction, IReadOnlyList<string> golds) =>
        golds.Count == 0 ? 0 : golds.Max(g => ExactMatch(prediction, g));

    /// <summary>The best F1 over the gold answers (0 when there are none).</summary>
    public static double MaxF1(string prediction, IReadOnlyList<string> golds) =>
        golds.Count == 0 ? 0 : golds.Max(g => F1(prediction, g));

    /// <summary>
    /// DPR's has_answer: some answer's normalised token sequence occurs as a whole-token run in the passage's
    /// normalised tokens ("1 500" does not match inside "21 500"). Answers that normalise to nothing never match.
    /// </summary>
    public static bool ContainsAnswer(string passage, IReadOnlyList<string> answers) =>
        ContainsNormalizedAnswer(" " + Normalize(passage) + " ", answers.Select(Normalize).ToList());

    /// <summary>The same test against a passage already normalised and padded with a space at both ends.</summary>
    internal static bool ContainsNormalizedAnswer(string paddedNormalizedPassage, IReadOnlyList<string> normalizedAnswers)
    {
        foreach (var a in normalizedAnswers)
            if (a.Length > 0 && paddedNormalizedPassage.Contains(" " + a + " ", StringComparison.Ordinal)) return true;
        return false;
    }
}
