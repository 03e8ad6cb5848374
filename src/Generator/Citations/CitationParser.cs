using System.Text;
using System.Text.RegularExpressions;
using Rag.Generator.Extractive;

namespace Rag.Generator.Citations;

/// <summary>Distinct citations in order of first mention, and the cited numbers that named no passage.</summary>
public sealed record CitationResult(IReadOnlyList<Citation> Citations, IReadOnlyList<int> Dropped);

/// <summary>
/// Finds citation markers in an answer, as a whole or piece by piece while it streams, and maps them to
/// the passages the model was shown. Accepted forms: [1]; lists [1, 2] and [1; 2]; adjacent [1][2];
/// ranges [1-3] and [1–3] (expanded; a range wider than 20 or written backwards counts its two ends only);
/// and a word before a number, as small models write: [Passage 2], [source 1, 3]. A number that names no
/// passage is dropped and reported. Brackets of anything else ("[citation needed]", "[a]") are ignored.
/// Streaming and whole-text parsing give the same result: a marker is taken only once its ']' arrives.
/// </summary>
public sealed partial class CitationParser
{
    const int MaxRange = 20;
    // A '[' further back than this without its ']' is not a marker; stop holding it.
    const int MaxMarkerLength = 64;
    const int MaxSnippetLength = 300;

    readonly Dictionary<int, Passage> byNumber;
    readonly StringBuilder text = new();
    readonly List<Citation> citations = [];
    readonly List<int> dropped = [];
    readonly HashSet<int> seen = [];
    int scanFrom;

    public CitationParser(IReadOnlyList<Passage> passages)
    {
        byNumber = new Dictionary<int, Passage>(passages.Count);
        foreach (var p in passages) byNumber.TryAdd(p.Number, p);
    }

    public static CitationResult Parse(string answer, IReadOnlyList<Passage> passages)
    {
        var parser = new CitationParser(passages);
        parser.Append(answer);
        return parser.Complete();
    }

    /// <summary>Adds the next piece of the answer; returns the citations first mentioned in it.</summary>
    public IReadOnlyList<Citation> Append(string piece)
    {
        text.Append(piece);
        var pending = text.ToString(scanFrom, text.Length - scanFrom);
        var before = citations.Count;
        var lastEnd = 0;
        foreach (Match m in Marker().Matches(pending))
        {
            foreach (var n in Numbers(m.Groups["list"].Value))
                Cite(n, scanFrom + m.Index);
            lastEnd = m.Index + m.Length;
        }
        // Hold back an unclosed '[' near the end: its ']' may be in the next piece.
        var open = pending.LastIndexOf('[');
        scanFrom += open >= lastEnd && pending.Length - open < MaxMarkerLength ? open : pending.Length;
        return citations.Count == before ? [] : citations.GetRange(before, citations.Count - before);
    }

    /// <summary>Everything found so far; call after the last piece.</summary>
    public CitationResult Complete() => new(citations.ToArray(), dropped.ToArray());

    void Cite(int number, int markerStart)
    {
        if (!seen.Add(number)) return;
        if (!byNumber.TryGetValue(number, out var p)) { dropped.Add(number); return; }
        var snippet = Snippet(p.Text, ClaimBefore(markerStart));
        citations.Add(new Citation(p.Number, p.DocumentId, p.ChunkId, p.DocumentTitle, p.StartChar, p.EndChar, p.Page, snippet, p.PageLabel));
    }

    static IEnumerable<int> Numbers(string list)
    {
        foreach (var item in list.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var digits = Digits().Matches(item);
            if (digits.Count == 0) continue;
            var a = int.Parse(digits[0].Value);
            if (digits.Count == 1) { yield return a; continue; }
            var b = int.Parse(digits[1].Value);
            if (b >= a && b - a <= MaxRange)
                for (var n = a; n <= b; n++) yield return n;
            else { yield return a; yield return b; }
        }
    }

    /// <summary>The sentence of the answer a marker closes: text before it, back to the previous sentence end.</summary>
    string ClaimBefore(int markerStart)
    {
        var from = Math.Max(0, markerStart - 400);
        var before = Marker().Replace(text.ToString(from, markerStart - from), " ").TrimEnd(' ', '\t', '\n', '.', '!', '?', ',', ';', ':');
        var end = before.LastIndexOfAny(['.', '!', '?', '\n']);
        return end < 0 ? before : before[(end + 1)..];
    }

    /// <summary>The passage sentence sharing the most content words with the claim (the first sentence when none does).</summary>
    static string Snippet(string passage, string claim)
    {
        var sentences = TextAnalysis.SplitSentences(passage);
        if (sentences.Count == 0) return "";
        var claimWords = TextAnalysis.ContentWords(claim).ToHashSet(StringComparer.Ordinal);
        var best = sentences[0];
        var bestOverlap = 0;
        foreach (var s in sentences)
        {
            var overlap = TextAnalysis.ContentWords(passage.Substring(s.Start, s.Length)).Distinct().Count(claimWords.Contains);
            if (overlap > bestOverlap) (best, bestOverlap) = (s, overlap);
        }
        var snippet = passage.Substring(best.Start, best.Length);
        if (snippet.Length <= MaxSnippetLength) return snippet;
        var cut = snippet.LastIndexOf(' ', MaxSnippetLength);
        return snippet[..(cut > 0 ? cut : MaxSnippetLength)] + " …";
    }

    // One cited item: an optional word ("Passage 2", "source #3"), then a number or a range. ASCII digits only:
    // other scripts' digits are not citation numbers and int.Parse would refuse them.
    const string Item = @"(?:(?:passages?|sources?|refs?|references?|docs?|documents?)\s*#?\s*)?[0-9]{1,4}(?:\s*[-–]\s*[0-9]{1,4})?";

    [GeneratedRegex(@"\[\s*(?<list>" + Item + @"(?:\s*[,;]\s*" + Item + @")*)\s*\]", RegexOptions.IgnoreCase)]
    private static partial Regex Marker();

    [GeneratedRegex(@"[0-9]+")]
    private static partial Regex Digits();
}
