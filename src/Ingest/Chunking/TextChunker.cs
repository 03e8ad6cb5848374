using System.Buffers;
using Rag.Tokenizers;

namespace Rag.Ingest;

/// <summary>
/// Token-aware chunking with overlap. Text is cut recursively, coarse to fine: sections and pages
/// (a chunk never spans two headings or two pages), paragraphs, sentences, lines, words and, for a
/// word longer than a chunk, windows of characters. The pieces are packed greedily up to MaxTokens; each chunk after
/// the first repeats the last ~OverlapTokens of its predecessor, starting at a sentence start when
/// one is in reach, otherwise at a word start. Inside a <see cref="RecordBlock"/> (spreadsheet rows, one per
/// paragraph) chunks hold whole records and carry no overlap, so no passage starts or ends inside a row; only a
/// single record longer than a chunk is cut finer.
/// <para>
/// Memory and work are bounded for any input: pieces are produced lazily, and the tokenizer only
/// ever sees spans of at most <see cref="CountWindowChars"/> characters, so a 20 MB single line is
/// never tokenised in one go. Token counts of adjacent pieces are summed (exact for WordPiece,
/// which splits on whitespace first) and every chunk is recounted whole before it is emitted.
/// </para>
/// </summary>
public sealed class TextChunker
{
    enum Level { Paragraph, Sentence, Line, Word }

    readonly record struct Unit(int Start, int End, int Tokens, bool IsOverlap = false);

    readonly ChunkingOptions _options;
    readonly ITokenizer? _tokenizer;

    /// <param name="tokenizer">The context encoder's tokenizer; null counts with <see cref="ApproximateTokenCounter"/>.</param>
    public TextChunker(ChunkingOptions? options = null, ITokenizer? tokenizer = null)
    {
        _options = options ?? new ChunkingOptions();
        _options.Validate();
        _tokenizer = tokenizer;
    }

    public ChunkingOptions Options => _options;

    /// <summary>
    /// Spans longer than this are split before they are counted, and no chunk is longer: 16 chars per
    /// token is far above real text, and it caps chunks of text a tokenizer maps to few tokens (WordPiece
    /// turns any word over 100 chars into one [UNK]).
    /// </summary>
    public int CountWindowChars => _options.MaxTokens * 16;

    public int CountTokens(string text) => _tokenizer?.CountTokens(text) ?? ApproximateTokenCounter.Count(text);

    /// <summary>The chunks of the text in order, ordinals from 0. Deterministic; lazy.</summary>
    public IEnumerable<TextChunk> Chunk(ExtractedText source, CancellationToken ct = default)
    {
        var text = source.Text;
        var ordinal = 0;
        foreach (var (start, end, heading, page, records) in Segments(source))
        {
            foreach (var (s, e, tokens) in ChunkSegment(text, start, end, overlap: !records, ct))
                yield return new TextChunk(ordinal++, text[s..e], s, e, tokens, heading, page);
        }
    }

    /// <summary>
    /// The text cut at every section and page boundary: a chunk never spans two headings or two
    /// pages, so its heading path and page number are exact (a citation names the right page).
    /// </summary>
    static IEnumerable<(int Start, int End, string? Heading, int? Page, bool Records)> Segments(ExtractedText source)
    {
        var length = source.Text.Length;
        var cuts = new SortedSet<int> { 0, length };
        foreach (var s in source.Sections) { cuts.Add(Math.Clamp(s.Start, 0, length)); cuts.Add(Math.Clamp(s.End, 0, length)); }
        foreach (var p in source.Pages) { cuts.Add(Math.Clamp(p.Start, 0, length)); cuts.Add(Math.Clamp(p.End, 0, length)); }
        foreach (var r in source.Records) { cuts.Add(Math.Clamp(r.Start, 0, length)); cuts.Add(Math.Clamp(r.End, 0, length)); }
        var sections = source.Sections.OrderBy(s => s.Start).ToArray();
        var pages = source.Pages.OrderBy(p => p.Start).ToArray();
        var records = source.Records.OrderBy(r => r.Start).ToArray();
        int? previous = null;
        foreach (var cut in cuts)
        {
            if (previous is int start && cut > start)
            {
                var section = Array.FindLast(sections, s => s.Start <= start && start < s.End);
                var page = Array.FindLast(pages, p => p.Start <= start && start < p.End);
                var inRecords = Array.FindLast(records, r => r.Start <= start && start < r.End) is not null;
                yield return (start, cut, section is { HeadingPath.Length: > 0 } ? section.HeadingPath : null, page?.Page, inRecords);
            }
            previous = cut;
        }
    }

    /// <summary>Greedy packing of one segment's pieces into (start, end, tokens) chunks.</summary>
    IEnumerable<(int Start, int End, int Tokens)> ChunkSegment(string text, int start, int end, bool overlap, CancellationToken ct)
    {
        var max = _options.MaxTokens;
        var input = new Pushback(Split(text, start, end, Level.Paragraph, ct).GetEnumerator());
        var current = new List<Unit>();
        var sum = 0;
        var fresh = false; // current holds text not yet emitted (not only the overlap)
        while (true)
        {
            var have = input.TryNext(out var u);
            if (!have)
            {
                if (!fresh) break;
            }
            else if (current.Count == 0 || sum + u.Tokens <= max && u.End - current[0].Start <= CountWindowChars)
            {
                current.Add(u);
                sum += u.Tokens;
                fresh = true;
                continue;
            }
            else if (!fresh)
            {
                // The overlap and the next piece do not fit together: the piece wins.
                current.Clear();
                current.Add(u);
                sum = u.Tokens;
                fresh = true;
                continue;
            }
            else
            {
                input.Push(u);
            }

            var (s, e, tokens) = Finish(text, current, input);
            if (e > s) yield return (s, e, tokens);
            current.Clear();
            fresh = false;
            sum = 0;
            if (overlap && e > s && Overlap(text, s, e) is { } tail)
            {
                current.Add(tail);
                sum = tail.Tokens;
            }
        }
    }

    /// <summary>Trims the packed pieces to a chunk and recounts it whole; pieces over budget go back to the input.</summary>
    (int Start, int End, int Tokens) Finish(string text, List<Unit> current, Pushback input)
    {
        while (true)
        {
            var (s, e) = Trim(text, current[0].Start, current[^1].End);
            if (s >= e) return (s, s, 0);
            var tokens = CountTokens(text[s..e]);
            if (tokens <= _options.MaxTokens || current.Count == 1) return (s, e, tokens);
            if (current.Count == 2 && current[0].IsOverlap)
            {
                current.RemoveAt(0);
                continue;
            }
            input.Push(current[^1]);
            current.RemoveAt(current.Count - 1);
        }
    }

    /// <summary>The tail of chunk [s, e) worth at most OverlapTokens, starting at a sentence start if possible, else a word start.</summary>
    Unit? Overlap(string text, int s, int e)
    {
        var budget = _options.OverlapTokens;
        if (budget == 0) return null;
        int tokens = 0, wordEnd = e;
        int bestWord = -1, bestWordTokens = 0, bestSentence = -1, bestSentenceTokens = 0;
        var i = e;
        while (i > s)
        {
            // Step back over one whitespace-delimited word: [wordStart, wordEnd).
            while (i > s && char.IsWhiteSpace(text[i - 1])) i--;
            while (i > s && !char.IsWhiteSpace(text[i - 1])) i--;
            if (i <= s) break; // the overlap never covers the whole chunk
            tokens += CountTokens(text[i..wordEnd]);
            if (tokens > budget) break;
            wordEnd = i;
            (bestWord, bestWordTokens) = (i, tokens);
            if (IsSentenceStart(text, s, i)) (bestSentence, bestSentenceTokens) = (i, tokens);
        }
        if (bestSentence >= 0) return new Unit(bestSentence, e, bestSentenceTokens, IsOverlap: true);
        return bestWord >= 0 ? new Unit(bestWord, e, bestWordTokens, IsOverlap: true) : null;
    }

    static bool IsSentenceStart(string text, int floor, int i)
    {
        var j = i - 1;
        while (j >= floor && char.IsWhiteSpace(text[j])) j--;
        while (j >= floor && IsClosing(text[j])) j--;
        return j >= floor && IsTerminal(text[j]);
    }

    /// <summary>Pieces of [start, end) no bigger than MaxTokens, contiguous, in order.</summary>
    IEnumerable<Unit> Split(string text, int start, int end, Level level, CancellationToken ct)
    {
        var pos = start;
        while (pos < end)
        {
            ct.ThrowIfCancellationRequested();
            var next = NextBoundary(text, pos, end, level);
            if (next - pos <= CountWindowChars)
            {
                var tokens = CountTokens(text[pos..next]);
                if (tokens <= _options.MaxTokens)
                {
                    yield return new Unit(pos, next, tokens);
                    pos = next;
                    continue;
                }
            }
            var finer = level == Level.Word ? CharWindows(text, pos, next) : Split(text, pos, next, level + 1, ct);
            foreach (var u in finer) yield return u;
            pos = next;
        }
    }

    /// <summary>A word longer than a chunk: windows of characters sized so each fits the budget (never splitting a surrogate pair).</summary>
    IEnumerable<Unit> CharWindows(string text, int start, int end)
    {
        var max = _options.MaxTokens;
        var guess = max * 4;
        var pos = start;
        while (pos < end)
        {
            var length = Math.Min(guess, end - pos);
            int stop, tokens;
            while (true)
            {
                stop = pos + length;
                if (stop < end && length > 1 && char.IsHighSurrogate(text[stop - 1])) stop--;
                tokens = CountTokens(text[pos..stop]);
                if (tokens <= max || stop - pos <= 1) break;
                length = Math.Max(1, (int)((long)(stop - pos) * max * 9 / (tokens * 10L)));
            }
            yield return new Unit(pos, stop, tokens);
            guess = Math.Max(stop - pos, 1);
            pos = stop;
        }
    }

    /// <summary>End of the piece that starts at pos: just after the separator (blank line, sentence end, newline, whitespace).</summary>
    static int NextBoundary(string text, int pos, int end, Level level)
    {
        switch (level)
        {
            case Level.Paragraph:
                for (var i = pos; i < end; i++)
                {
                    var found = text.AsSpan(i, end - i).IndexOf('\n');
                    if (found < 0) return end;
                    i += found;
                    var j = i + 1;
                    while (j < end && text[j] is ' ' or '\t' or '\f' or '\r') j++;
                    if (j < end && text[j] == '\n') return SkipWhitespace(text, j, end);
                }
                return end;
            case Level.Sentence:
                for (var i = pos; i < end; i++)
                {
                    var found = text.AsSpan(i, end - i).IndexOfAny(Terminals);
                    if (found < 0) return end;
                    i += found;
                    var j = i + 1;
                    while (j < end && IsClosing(text[j])) j++;
                    if (j == end) return end;
                    if (char.IsWhiteSpace(text[j]) || IsCjkTerminal(text[i])) return SkipWhitespace(text, j, end);
                }
                return end;
            case Level.Line:
                var newline = text.IndexOf('\n', pos, end - pos);
                return newline < 0 ? end : SkipWhitespace(text, newline, end);
            default:
                var k = pos;
                while (k < end && char.IsWhiteSpace(text[k])) k++;
                while (k < end && !char.IsWhiteSpace(text[k])) k++;
                return SkipWhitespace(text, k, end);
        }
    }

    static int SkipWhitespace(string text, int i, int end)
    {
        while (i < end && char.IsWhiteSpace(text[i])) i++;
        return i;
    }

    static (int, int) Trim(string text, int s, int e)
    {
        while (s < e && char.IsWhiteSpace(text[s])) s++;
        while (e > s && char.IsWhiteSpace(text[e - 1])) e--;
        return (s, e);
    }

    static readonly SearchValues<char> Terminals = SearchValues.Create(".!?\u2026\u3002\uFF01\uFF1F");

    static bool IsTerminal(char c) => c is '.' or '!' or '?' or '\u2026' || IsCjkTerminal(c);
    static bool IsCjkTerminal(char c) => c is '\u3002' or '\uFF01' or '\uFF1F';
    static bool IsClosing(char c) => c is '"' or '\'' or ')' or ']' or '\u201D' or '\u2019' or '\u00BB';

    /// <summary>An enumerator that pieces can be pushed back onto (most recent first).</summary>
    sealed class Pushback(IEnumerator<Unit> source)
    {
        readonly Stack<Unit> _back = new();

        public void Push(Unit u) => _back.Push(u);

        public bool TryNext(out Unit u)
        {
            if (_back.TryPop(out u)) return true;
            if (source.MoveNext()) { u = source.Current; return true; }
            return false;
        }
    }
}
