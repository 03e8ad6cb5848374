namespace Rag.Tokenizers.Analysis;

/// <summary>
/// M. F. Porter (1980), "An algorithm for suffix stripping", Program 14(3). Steps 1a..5b as in the paper;
/// m is the measure of the stem ([C](VC)^m[V]). Input is one lower-case word; words of two letters or fewer and
/// words with anything but a..z are kept (the paper's rules are for English letters).
/// The published rules, not the ones Porter later added to his C version ('bli' → 'ble', 'logi' → 'log'):
/// so "technology" stems to "technologi", as NLTK's ORIGINAL_ALGORITHM mode does. BM25 index files record
/// "Porter" in their analyzer name (TextAnalyzer.Name): a change to any stem here must change that name.
/// </summary>
public static class PorterStemmer
{
    public static string Stem(string word)
    {
        if (word.Length <= 2) return word;
        foreach (var ch in word) if (ch is < 'a' or > 'z') return word;
        var w = word;
        w = Step1a(w);
        w = Step1b(w);
        w = Step1c(w);
        w = Step2(w);
        w = Step3(w);
        w = Step4(w);
        w = Step5(w);
        return w;
    }

    static bool IsConsonant(string w, int i) => w[i] switch
    {
        'a' or 'e' or 'i' or 'o' or 'u' => false,
        'y' => i == 0 || !IsConsonant(w, i - 1),
        _ => true,
    };

    /// <summary>m in [C](VC)^m[V] over w[..length].</summary>
    static int Measure(string w, int length)
    {
        var m = 0;
        var i = 0;
        while (i < length && IsConsonant(w, i)) i++;
        while (i < length)
        {
            while (i < length && !IsConsonant(w, i)) i++;
            if (i >= length) break;
            while (i < length && IsConsonant(w, i)) i++;
            m++;
        }
        return m;
    }

    static bool HasVowel(string w, int length)
    {
        for (var i = 0; i < length; i++) if (!IsConsonant(w, i)) return true;
        return false;
    }

    static bool EndsDoubleConsonant(string w, int length) =>
        length >= 2 && w[length - 1] == w[length - 2] && IsConsonant(w, length - 1);

    /// <summary>*o: the stem ends cvc, where the second c is not w, x or y.</summary>
    static bool EndsCvc(string w, int length) =>
        length >= 3 && IsConsonant(w, length - 3) && !IsConsonant(w, length - 2) && IsConsonant(w, length - 1)
        && w[length - 1] is not ('w' or 'x' or 'y');

    /// <summary>Replaces the suffix when the stem's measure exceeds minM; returns whether the suffix matched.</summary>
    static bool Replace(ref string w, string suffix, string replacement, int minM)
    {
        if (!w.EndsWith(suffix, StringComparison.Ordinal)) return false;
        var stem = w.Length - suffix.Length;
        if (Measure(w, stem) > minM) w = w[..stem] + replacement;
        return true;
    }

    static string Step1a(string w)
    {
        if (w.EndsWith("sses", StringComparison.Ordinal)) return w[..^2];
        if (w.EndsWith("ies", StringComparison.Ordinal)) return w[..^2];
        if (w.EndsWith("ss", StringComparison.Ordinal)) return w;
        if (w.EndsWith('s')) return w[..^1];
        return w;
    }

    static string Step1b(string w)
    {
        if (w.EndsWith("eed", StringComparison.Ordinal))
            return Measure(w, w.Length - 3) > 0 ? w[..^1] : w;
        string stem;
        if (w.EndsWith("ed", StringComparison.Ordinal) && HasVowel(w, w.Length - 2)) stem = w[..^2];
        else if (w.EndsWith("ing", StringComparison.Ordinal) && HasVowel(w, w.Length - 3)) stem = w[..^3];
        else return w;
        if (stem.EndsWith("at", StringComparison.Ordinal) || stem.EndsWith("bl", StringComparison.Ordinal) || stem.EndsWith("iz", StringComparison.Ordinal))
            return stem + "e";
        if (EndsDoubleConsonant(stem, stem.Length) && stem[^1] is not ('l' or 's' or 'z')) return stem[..^1];
        if (Measure(stem, stem.Length) == 1 && EndsCvc(stem, stem.Length)) return stem + "e";
        return stem;
    }

    static string Step1c(string w) =>
        w.EndsWith('y') && HasVowel(w, w.Length - 1) ? w[..^1] + "i" : w;

    static readonly (string Suffix, string Replacement)[] Step2Rules = new (string Suffix, string Replacement)[]
    {
        ("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"), ("abli", "able"),
        ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"), ("ization", "ize"), ("ation", "ate"),
        ("ator", "ate"), ("alism", "al"), ("iveness", "ive"), ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"),
        ("iviti", "ive"), ("biliti", "ble"),
    }
    // Longest suffix first, so "ational" wins over "ation" and "tional".
    .OrderByDescending(r => r.Suffix.Length).ToArray();

    static readonly (string Suffix, string Replacement)[] Step3Rules =
    [
        ("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""), ("ness", ""),
    ];

    static readonly string[] Step4Suffixes = new[]
    {
        "al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism", "ate",
        "iti", "ous", "ive", "ize",
    }
    .OrderByDescending(s => s.Length).ToArray();

    static string Step2(string w)
    {
        foreach (var (suffix, replacement) in Step2Rules)
            if (Replace(ref w, suffix, replacement, 0)) return w;
        return w;
    }

    static string Step3(string w)
    {
        foreach (var (suffix, replacement) in Step3Rules)
            if (Replace(ref w, suffix, replacement, 0)) return w;
        return w;
    }

    static string Step4(string w)
    {
        foreach (var suffix in Step4Suffixes)
        {
            if (!w.EndsWith(suffix, StringComparison.Ordinal)) continue;
            var stem = w.Length - suffix.Length;
            if (suffix == "ion" && (stem == 0 || w[stem - 1] is not ('s' or 't'))) return w;
            return Measure(w, stem) > 1 ? w[..stem] : w;
        }
        return w;
    }

    static string Step5(string w)
    {
        if (w.EndsWith('e'))
        {
            var m = Measure(w, w.Length - 1);
            if (m > 1 || (m == 1 && !EndsCvc(w, w.Length - 1))) w = w[..^1];
        }
        if (w.EndsWith("ll", StringComparison.Ordinal) && Measure(w, w.Length) > 1) w = w[..^1];
        return w;
    }
}
