using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Rag.Tokenizers;

/// <summary>
/// BERT's tokenizer: the basic tokenizer (clean text, CJK isolation, lower-casing and accent stripping,
/// whitespace and punctuation split) followed by greedy longest-match-first wordpiece
/// (google-research/bert tokenization.py; Hugging Face BertNormalizer + BertPreTokenizer + WordPiece).
/// Every token keeps the span of the original text it came from. Thread-safe.
/// </summary>
public sealed class WordPieceTokenizer : ITokenizer
{
    readonly string[] _idToToken;
    readonly Dictionary<string, int> _vocab;          // word-initial pieces
    readonly Dictionary<string, int> _continuations;  // "##piece" stored as "piece"
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _continuationLookup;
    readonly int _longestPiece, _longestContinuation;
    readonly WordPieceOptions _options;
    readonly bool _lower, _strip;

    public WordPieceTokenizer(IReadOnlyList<string> vocabulary, WordPieceOptions? options = null)
    {
        _options = options ?? new WordPieceOptions();
        _lower = _options.LowerCase;
        _strip = _options.ShouldStripAccents;
        _idToToken = [.. vocabulary];
        _vocab = new Dictionary<string, int>(vocabulary.Count, VocabComparer.Instance);
        _continuations = new Dictionary<string, int>(VocabComparer.Instance);
        var prefix = _options.ContinuingSubwordPrefix;
        for (int id = 0; id < vocabulary.Count; id++)
        {
            var token = vocabulary[id];
            _vocab[token] = id; // a repeated line maps to its last id, as BERT's load_vocab does
            if (prefix.Length > 0 && token.Length > prefix.Length && token.StartsWith(prefix, StringComparison.Ordinal))
                _continuations[token[prefix.Length..]] = id;
        }
        _vocabLookup = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _continuationLookup = _continuations.GetAlternateLookup<ReadOnlySpan<char>>();
        _longestPiece = _vocab.Keys.Max(k => k.Length);
        _longestContinuation = _continuations.Count == 0 ? 0 : _continuations.Keys.Max(k => k.Length);
        UnkId = RequireId(_options.UnkToken);
        ClsId = RequireId(_options.ClsToken);
        SepId = RequireId(_options.SepToken);
        PadId = RequireId(_options.PadToken);
        MaskId = RequireId(_options.MaskToken);
    }

    int RequireId(string token) =>
        _vocab.TryGetValue(token, out var id) ? id : throw new InvalidDataException($"The vocabulary has no {token} token.");

    public WordPieceOptions Options => _options;
    public int VocabularySize => _idToToken.Length;
    public int UnkId { get; }
    public int ClsId { get; }
    public int SepId { get; }
    public int PadId { get; }
    public int MaskId { get; }

    public int? TokenToId(string token) => _vocab.TryGetValue(token, out var id) ? id : null;

    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>From a BERT vocab.txt (one token per line, id = line number) and, when given, its tokenizer_config.json.</summary>
    public static WordPieceTokenizer FromVocabFile(string vocabPath, WordPieceOptions? options = null)
    {
        if (!File.Exists(vocabPath)) throw new FileNotFoundException($"Tokenizer file not found: {vocabPath}", vocabPath);
        return FromVocabText(File.ReadAllText(vocabPath, Encoding.UTF8), options, vocabPath);
    }

    /// <summary>A vocab.txt's content (one token per line, LF or CRLF); source names it in errors.</summary>
    public static WordPieceTokenizer FromVocabText(string text, WordPieceOptions? options, string source)
    {
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++) if (lines[i].EndsWith('\r')) lines[i] = lines[i][..^1];
        int n = lines.Length;
        while (n > 0 && lines[n - 1].Length == 0) n--; // a trailing blank line is not a token
        if (n == 0) throw new InvalidDataException($"{source} is empty.");
        try { return new WordPieceTokenizer(lines[..n], options); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{source}: {e.Message}", e); }
    }

    /// <summary>From a Hugging Face tokenizer.json whose model is WordPiece (BertNormalizer settings honoured).</summary>
    public static WordPieceTokenizer FromTokenizerJson(string path)
    {
        using var doc = TokenizerFiles.ReadJson(path);
        var root = doc.RootElement;
        var model = root.Get("model") ?? throw new InvalidDataException($"{path} has no model.");
        if (model.GetString("type") is { } type && type != "WordPiece")
            throw new InvalidDataException($"{path}: model type is {type}, not WordPiece.");
        var vocab = TokenizerFiles.ReadVocabObject(model.Get("vocab") ?? throw new InvalidDataException($"{path} has no model.vocab."), path);
        var tokens = new string[vocab.Values.Max() + 1];
        foreach (var (token, id) in vocab) tokens[id] = token;
        for (int i = 0; i < tokens.Length; i++)
            if (tokens[i] is null) throw new InvalidDataException($"{path}: model.vocab has no token with id {i}.");

        var options = new WordPieceOptions
        {
            UnkToken = model.GetString("unk_token") ?? "[UNK]",
            ContinuingSubwordPrefix = model.GetString("continuing_subword_prefix") ?? "##",
            MaxInputCharsPerWord = model.GetInt("max_input_chars_per_word") ?? 100,
        };
        options = ApplyNormalizer(root.Get("normalizer"), options, path);
        if (root.Get("post_processor") is { } post && post.GetString("type") == "BertProcessing")
        {
            if (post.Get("cls") is { ValueKind: JsonValueKind.Array } cls) options = options with { ClsToken = cls[0].GetString() ?? options.ClsToken };
            if (post.Get("sep") is { ValueKind: JsonValueKind.Array } sep) options = options with { SepToken = sep[0].GetString() ?? options.SepToken };
        }
        if (root.Get("padding") is { } padding && padding.GetString("pad_token") is { } pad) options = options with { PadToken = pad };
        try { return new WordPieceTokenizer(tokens, options); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    static WordPieceOptions ApplyNormalizer(JsonElement? normalizer, WordPieceOptions options, string path)
    {
        if (normalizer is not { } n) return options with { LowerCase = false, StripAccents = false };
        switch (n.GetString("type"))
        {
            case "BertNormalizer":
                return options with
                {
                    CleanText = n.GetBool("clean_text") ?? true,
                    TokenizeChineseChars = n.GetBool("handle_chinese_chars") ?? true,
                    LowerCase = n.GetBool("lowercase") ?? true,
                    StripAccents = n.GetBool("strip_accents"),
                };
            case "Sequence" when n.Get("normalizers") is { ValueKind: JsonValueKind.Array } list:
                options = options with { LowerCase = false, StripAccents = false, CleanText = false, TokenizeChineseChars = false };
                foreach (var item in list.EnumerateArray())
                {
                    options = item.GetString("type") switch
                    {
                        "NFD" => options,
                        "Lowercase" => options with { LowerCase = true },
                        "StripAccents" => options with { StripAccents = true },
                        "BertNormalizer" => ApplyNormalizer(item, options, path),
                        var t => throw new NotSupportedException($"{path}: normalizer {t} is not supported by WordPieceTokenizer."),
                    };
                }
                return options;
            case var t:
                throw new NotSupportedException($"{path}: normalizer {t} is not supported by WordPieceTokenizer.");
        }
    }

    public int[] Encode(string text)
    {
        var ids = new List<int>(text.Length / 4 + 4);
        var sink = new Sink(ids, null);
        Run(text, ref sink);
        return [.. ids];
    }

    public int CountTokens(string text)
    {
        var sink = new Sink(null, null);
        Run(text, ref sink);
        return sink.Count;
    }

    /// <summary>Tokens with the span of <paramref name="text"/> each came from; no special tokens.</summary>
    public IReadOnlyList<TokenSpan> EncodeWithOffsets(string text)
    {
        var spans = new List<TokenSpan>(text.Length / 4 + 4);
        var sink = new Sink(null, spans);
        Run(text, ref sink);
        return spans;
    }

    /// <summary>
    /// Model inputs: [CLS] a [SEP] (b [SEP]) per row, truncated to <paramref name="maxLength"/> (longest-first for pairs)
    /// and padded to the longest row, or to maxLength when <paramref name="padToMaxLength"/>.
    /// </summary>
    public EncodedBatch EncodeBatch(IReadOnlyList<string> texts, int maxLength, IReadOnlyList<string>? pairs = null, bool padToMaxLength = false)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (pairs is not null && pairs.Count != texts.Count)
            throw new ArgumentException($"{pairs.Count} pairs for {texts.Count} texts; give one pair per text.", nameof(pairs));
        int specials = pairs is null ? 2 : 3;
        if (maxLength < specials) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, $"Must leave room for the {specials} special tokens.");

        var rows = new int[texts.Count][];
        int longest = 0;
        for (int b = 0; b < texts.Count; b++)
        {
            var a = Encode(texts[b]);
            var p = pairs is null ? null : Encode(pairs[b]);
            int la = a.Length, lb = p?.Length ?? 0;
            // Longest-first: drop a token from the longer side until both fit (ties trim the pair, as Hugging Face does).
            while (la + lb > maxLength - specials)
            {
                if (la > lb) la--; else lb--;
            }
            var row = new int[la + lb + specials];
            row[0] = ClsId;
            a.AsSpan(0, la).CopyTo(row.AsSpan(1));
            row[la + 1] = SepId;
            if (p is not null)
            {
                p.AsSpan(0, lb).CopyTo(row.AsSpan(la + 2));
                row[^1] = SepId;
            }
            rows[b] = row;
            longest = Math.Max(longest, row.Length);
        }

        int T = padToMaxLength ? maxLength : longest, B = rows.Length;
        var ids = new int[B * T];     // (B, T)
        var mask = new int[B * T];    // (B, T)
        var types = new int[B * T];   // (B, T)
        ids.AsSpan().Fill(PadId);
        for (int b = 0; b < B; b++)
        {
            var row = rows[b];
            row.CopyTo(ids.AsSpan(b * T));
            mask.AsSpan(b * T, row.Length).Fill(1);
            if (pairs is not null)
            {
                int firstEnd = Array.IndexOf(row, SepId, 1) + 1; // [CLS] a [SEP] is type 0; ids inside a are never [SEP]
                types.AsSpan(b * T + firstEnd, row.Length - firstEnd).Fill(1);
            }
        }
        return new EncodedBatch(B, T, ids, mask, types);
    }

    /// <summary>Tokens joined with spaces, "##" pieces glued on, and BERT's clean-up of spaces before punctuation.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var sb = new StringBuilder();
        var prefix = _options.ContinuingSubwordPrefix;
        for (int i = 0; i < ids.Length; i++)
        {
            var token = IdToToken(ids[i]) ?? throw new ArgumentOutOfRangeException(nameof(ids), ids[i], $"Not a token id (vocabulary size {VocabularySize}).");
            if (i > 0 && prefix.Length > 0 && token.StartsWith(prefix, StringComparison.Ordinal)) sb.Append(token, prefix.Length, token.Length - prefix.Length);
            else
            {
                if (i > 0) sb.Append(' ');
                sb.Append(token);
            }
        }
        // Hugging Face WordPiece decoder, cleanup = true.
        return sb.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
            .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re").ToString();
    }

    /// <summary>Collects ids, spans or only a count.</summary>
    struct Sink(List<int>? ids, List<TokenSpan>? spans)
    {
        public int Count;

        public void Add(int id, int start, int end)
        {
            Count++;
            ids?.Add(id);
            spans?.Add(new TokenSpan(id, start, end));
        }

        public void RemoveLast(int n)
        {
            Count -= n;
            ids?.RemoveRange(ids.Count - n, n);
            spans?.RemoveRange(spans.Count - n, n);
        }
    }

    /// <summary>A word being built: its normalized characters and, for each, the original span it came from.</summary>
    sealed class Word : IDisposable
    {
        public char[] Chars = ArrayPool<char>.Shared.Rent(64);
        public int[] Starts = ArrayPool<int>.Shared.Rent(64);
        public int[] Ends = ArrayPool<int>.Shared.Rent(64);
        public int Length;
        public int LowSurrogates;

        public void Add(char c, int start, int end)
        {
            if (Length == Chars.Length) Grow();
            Chars[Length] = c;
            Starts[Length] = start;
            Ends[Length] = end;
            Length++;
            if (char.IsLowSurrogate(c)) LowSurrogates++;
        }

        public void AddAscii(string text, int from, int to, bool lower)
        {
            while (Length + (to - from) > Chars.Length) Grow();
            var chars = Chars.AsSpan(Length, to - from);
            var starts = Starts.AsSpan(Length, to - from);
            var ends = Ends.AsSpan(Length, to - from);
            for (int k = 0; k < chars.Length; k++)
            {
                char c = text[from + k];
                chars[k] = lower && (uint)(c - 'A') <= 'Z' - 'A' ? (char)(c + 32) : c;
                starts[k] = from + k;
                ends[k] = from + k + 1;
            }
            Length += to - from;
        }

        void Grow()
        {
            Chars = Resize(Chars);
            Starts = Resize(Starts);
            Ends = Resize(Ends);
        }

        static T[] Resize<T>(T[] old)
        {
            var bigger = ArrayPool<T>.Shared.Rent(old.Length * 2);
            old.CopyTo(bigger, 0);
            ArrayPool<T>.Shared.Return(old);
            return bigger;
        }

        public void Dispose()
        {
            ArrayPool<char>.Shared.Return(Chars);
            ArrayPool<int>.Shared.Return(Starts);
            ArrayPool<int>.Shared.Return(Ends);
        }
    }

    // ASCII classes: what BERT's basic tokenizer does with each of the first 128 characters.
    const byte WordChar = 0, Space = 1, Control = 2, Punct = 3;
    static readonly byte[] AsciiClass = BuildAsciiClasses();

    static byte[] BuildAsciiClasses()
    {
        var classes = new byte[128];
        for (int c = 0; c < 128; c++)
        {
            classes[c] = c switch
            {
                ' ' or '\t' or '\n' or '\r' => Space,
                < 32 or 127 => Control,
                (>= 33 and <= 47) or (>= 58 and <= 64) or (>= 91 and <= 96) or (>= 123 and <= 126) => Punct, // BERT's ASCII punctuation
                _ => WordChar,
            };
        }
        return classes;
    }

    /// <summary>Basic tokenizer over the original text, handing each finished word to wordpiece.</summary>
    void Run(string text, ref Sink sink)
    {
        using var word = new Word();
        Span<char> normalized = stackalloc char[AccentStripper.MaxLength * 2];
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (c < 128)
            {
                switch (AsciiClass[c])
                {
                    case WordChar:
                        int run = i + 1; // the common case: a run of ASCII letters and digits, copied in one go
                        while (run < text.Length && text[run] < 128 && AsciiClass[text[run]] == WordChar) run++;
                        word.AddAscii(text, i, run, _lower);
                        i = run;
                        continue;
                    case Space:
                        Flush(word, ref sink);
                        break;
                    case Control when _options.CleanText:
                        break;
                    case Control:
                        if (char.IsWhiteSpace(c)) Flush(word, ref sink);
                        else word.Add(c, i, i + 1);
                        break;
                    default:
                        Flush(word, ref sink);
                        Single(c, i, ref sink);
                        break;
                }
                i++;
                continue;
            }

            if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out int len) != OperationStatus.Done)
            {
                // A lone surrogate is category Cs, a control character: dropped when cleaning, else a word character.
                if (!_options.CleanText) word.Add(c, i, i + 1);
                i++;
                continue;
            }
            int start = i;
            i += len;
            var category = Rune.GetUnicodeCategory(rune);
            if (_options.CleanText && (rune.Value == 0xFFFD || IsOther(category))) continue;
            if (category is UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
            {
                Flush(word, ref sink);
                continue;
            }
            if (_options.TokenizeChineseChars && IsCjk(rune.Value))
            {
                Flush(word, ref sink);
                Piece(normalized[..Normalize(rune, normalized)], start, i, ref sink); // compatibility ideographs (U+F900..) decompose
                continue;
            }

            int n = Normalize(rune, normalized);
            for (int k = 0; k < n;)
            {
                Rune.DecodeFromUtf16(normalized[k..n], out var r, out int l);
                if (IsPunctuation(r))
                {
                    Flush(word, ref sink);
                    Piece(normalized.Slice(k, l), start, i, ref sink);
                }
                else
                {
                    for (int j = 0; j < l; j++) word.Add(normalized[k + j], start, i);
                }
                k += l;
            }
        }
        Flush(word, ref sink);
    }

    /// <summary>Accent stripping (NFD without Mn) then lower-casing, in the order of Hugging Face's BertNormalizer.</summary>
    int Normalize(Rune rune, Span<char> output)
    {
        Span<char> stripped = stackalloc char[AccentStripper.MaxLength];
        int n = _strip ? AccentStripper.Strip(rune, stripped) : rune.EncodeToUtf16(stripped);
        if (!_lower)
        {
            stripped[..n].CopyTo(output);
            return n;
        }
        int written = 0;
        for (int k = 0; k < n;)
        {
            Rune.DecodeFromUtf16(stripped[k..n], out var r, out int l);
            k += l;
            if (r.Value == 0x130) // İ lower-cases to i + combining dot (the one multi-character mapping); strip_accents drops the dot
            {
                output[written++] = 'i';
                if (!_strip) output[written++] = '\u0307';
                continue;
            }
            written += Rune.ToLowerInvariant(r).EncodeToUtf16(output[written..]);
        }
        return written;
    }

    void Single(char c, int position, ref Sink sink) => Piece([c], position, position + 1, ref sink);

    /// <summary>A one-character word (punctuation, CJK): its id or [UNK].</summary>
    void Piece(ReadOnlySpan<char> chars, int start, int end, ref Sink sink) =>
        sink.Add(_vocabLookup.TryGetValue(chars, out var id) ? id : UnkId, start, end);

    /// <summary>Greedy longest-match-first wordpiece over the finished word, then clears it.</summary>
    void Flush(Word word, ref Sink sink)
    {
        int n = word.Length;
        if (n == 0) return;
        word.Length = 0;
        int codePoints = n - word.LowSurrogates;
        word.LowSurrogates = 0;
        var chars = word.Chars.AsSpan(0, n);
        if (codePoints > _options.MaxInputCharsPerWord)
        {
            sink.Add(UnkId, word.Starts[0], word.Ends[n - 1]);
            return;
        }
        int added = 0;
        for (int start = 0; start < n;)
        {
            bool first = start == 0;
            int end = Math.Min(n, start + (first ? _longestPiece : _longestContinuation));
            int id = -1;
            for (; end > start; end--)
            {
                if (end < n && char.IsLowSurrogate(chars[end])) continue; // never cut a surrogate pair
                var piece = chars[start..end];
                if (first ? _vocabLookup.TryGetValue(piece, out id) : _continuationLookup.TryGetValue(piece, out id)) break;
            }
            if (end == start)
            {
                sink.RemoveLast(added);
                sink.Add(UnkId, word.Starts[0], word.Ends[n - 1]);
                return;
            }
            sink.Add(id, word.Starts[start], word.Ends[end - 1]);
            added++;
            start = end;
        }
    }

    // Cc, Cf, Cs, Co, Cn: BERT's _is_control once \t \n \r are taken as whitespace.
    static bool IsOther(UnicodeCategory c) => c is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
        or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;

    static bool IsPunctuation(Rune r)
    {
        if (r.IsAscii) return AsciiClass[r.Value] == Punct;
        return Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }

    // The CJK Unified Ideographs blocks of BERT's _is_chinese_char (not Hangul, Hiragana or Katakana).
    static bool IsCjk(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF) or (>= 0x2A700 and <= 0x2B73F)
            or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B820 and <= 0x2CEAF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
