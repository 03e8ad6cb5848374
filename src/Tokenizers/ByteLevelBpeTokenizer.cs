using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Rag.Tokenizers.Normalization;

namespace Rag.Tokenizers;

/// <summary>
/// Byte-level BPE (GPT-2, Llama 3, Qwen2): text is split by the pre-tokenizer regex, each piece's UTF-8 bytes
/// start as one symbol per byte, and the adjacent pair with the lowest merge rank is merged until none is left
/// (Sennrich et al. 2016 over bytes, as in openai/gpt-2 encoder.py and tiktoken). Every string round-trips:
/// Decode(Encode(s)) == s for any valid UTF-16 text (its NFC when tokenizer.json asks for NFC, as Qwen2's does);
/// a lone surrogate encodes as U+FFFD. Thread-safe.
/// </summary>
public sealed partial class ByteLevelBpeTokenizer : ITokenizer
{
    readonly record struct Merge(int Rank, int Id);

    readonly Dictionary<string, int> _vocab;  // token spelled in byte-level characters -> id
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    readonly Dictionary<long, Merge> _merges; // (left id, right id) -> rank and merged id
    readonly int[] _byteIds = new int[256];
    readonly byte[]?[] _idBytes;
    readonly string?[] _idTokens;
    readonly bool[] _isSpecial;
    readonly Dictionary<string, int> _specialTokens;
    readonly Regex? _specialRegex;
    readonly PreTokenizer _preTokenizer;
    readonly bool _ignoreMerges, _addPrefixSpace, _nfc;
    readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, int[]>.AlternateLookup<ReadOnlySpan<char>> _cacheLookup;
    const int CacheLimit = 100_000;

    /// <param name="vocabulary">Ordinary tokens spelled in GPT-2's byte-level characters, with their ids; must hold all 256 single bytes.</param>
    /// <param name="merges">(left, right) token pairs in rank order; each pair's concatenation must be in the vocabulary.</param>
    /// <param name="pattern">The pre-tokenizer regex, e.g. <see cref="PreTokenizer.Gpt2Pattern"/>.</param>
    /// <param name="specialTokens">Added tokens (text -> id) matched before pre-tokenization when allowSpecial is set.</param>
    /// <param name="ignoreMerges">Take a piece that is itself a token whole before merging (tiktoken; Llama 3's tokenizer.json).</param>
    public ByteLevelBpeTokenizer(
        IReadOnlyDictionary<string, int> vocabulary,
        IEnumerable<(string Left, string Right)> merges,
        string pattern,
        IReadOnlyDictionary<string, int>? specialTokens = null,
        bool ignoreMerges = false)
        : this(vocabulary, pattern, specialTokens, ignoreMerges, addPrefixSpace: false, nfc: false)
    {
        AddMerges([.. merges]);
    }

    ByteLevelBpeTokenizer(
        IReadOnlyDictionary<string, int> vocabulary, string pattern, IReadOnlyDictionary<string, int>? specialTokens,
        bool ignoreMerges, bool addPrefixSpace, bool nfc)
    {
        _vocab = new Dictionary<string, int>(vocabulary, StringComparer.Ordinal);
        _vocabLookup = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _cacheLookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = new Dictionary<long, Merge>(vocabulary.Count);
        _preTokenizer = new PreTokenizer(pattern);
        _ignoreMerges = ignoreMerges;
        _addPrefixSpace = addPrefixSpace;
        _nfc = nfc;
        _specialTokens = new Dictionary<string, int>(specialTokens ?? new Dictionary<string, int>(), StringComparer.Ordinal);

        int size = Math.Max(_vocab.Count == 0 ? 0 : _vocab.Values.Max(), _specialTokens.Count == 0 ? -1 : _specialTokens.Values.Max()) + 1;
        _idBytes = new byte[size][];
        _idTokens = new string[size];
        _isSpecial = new bool[size];
        foreach (var (token, id) in _vocab)
        {
            if (id < 0) throw new InvalidDataException($"Token {token} has a negative id.");
            // Tokens outside the byte alphabet (added tokens listed in vocab.json) stand for their own UTF-8.
            _idBytes[id] = ByteLevel.Decode(token) ?? Encoding.UTF8.GetBytes(token);
            _idTokens[id] = token;
        }
        foreach (var (content, id) in _specialTokens)
        {
            if (id < 0) throw new InvalidDataException($"Special token {content} has a negative id.");
            _idBytes[id] = Encoding.UTF8.GetBytes(content);
            _idTokens[id] = content;
            _isSpecial[id] = true;
        }
        for (int b = 0; b < 256; b++)
        {
            if (!_vocab.TryGetValue(ByteLevel.ToChar((byte)b).ToString(), out _byteIds[b]))
                throw new InvalidDataException($"The vocabulary has no token for byte 0x{b:X2}, so it is not a byte-level BPE vocabulary.");
        }
        if (_specialTokens.Count > 0)
        {
            // Longest first, so that the alternation finds the longest token at each position.
            var alternatives = _specialTokens.Keys.Where(k => k.Length > 0).OrderByDescending(k => k.Length).Select(Regex.Escape);
            _specialRegex = new Regex(string.Join('|', alternatives), RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        VocabularySize = size;
    }

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    public int VocabularySize { get; }

    /// <summary>Beginning-of-sequence id where the model files say (tokenizer_config.json, config.json, ...).</summary>
    public int? BosId { get; internal set; }

    /// <summary>The first end-of-sequence id; generation stops at any of <see cref="EosIds"/>.</summary>
    public int? EosId => EosIds.Count > 0 ? EosIds[0] : null;

    /// <summary>Every id that ends generation (generation_config.json may list several, e.g. Llama 3's <|eot_id|>).</summary>
    public IReadOnlyList<int> EosIds { get; internal set; } = [];

    /// <summary>The pre-tokenizer regex in use.</summary>
    public string Pattern => _preTokenizer.Pattern;

    public IReadOnlyDictionary<string, int> SpecialTokens => _specialTokens;

    public int? TokenToId(string token) =>
        _specialTokens.TryGetValue(token, out var s) ? s : _vocab.TryGetValue(token, out var id) ? id : null;

    /// <summary>The token as the vocabulary spells it (byte-level characters), or a special token's text.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idTokens.Length ? _idTokens[id] : null;

    public bool IsSpecial(int id) => (uint)id < (uint)_isSpecial.Length && _isSpecial[id];

    /// <summary>The bytes a token stands for.</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) =>
        (uint)id < (uint)_idBytes.Length && _idBytes[id] is { } bytes
            ? bytes
            : throw new ArgumentOutOfRangeException(nameof(id), id, $"Not a token id (vocabulary size {VocabularySize}).");

    /// <summary>Ordinary text: special-token text is encoded as plain text.</summary>
    public int[] Encode(string text) => Encode(text, allowSpecial: false);

    /// <summary>With <paramref name="allowSpecial"/>, added tokens such as &lt;|im_start|&gt; in the text become their ids.</summary>
    public int[] Encode(string text, bool allowSpecial)
    {
        var ids = new List<int>(text.Length / 3 + 4);
        EncodeCore(text, allowSpecial, ids);
        return [.. ids];
    }

    public int CountTokens(string text) => EncodeCore(text, allowSpecial: false, ids: null);

    public int CountTokens(string text, bool allowSpecial) => EncodeCore(text, allowSpecial, ids: null);

    int EncodeCore(string text, bool allowSpecial, List<int>? ids)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!allowSpecial || _specialRegex is null) return EncodeOrdinary(text, ids);
        int count = 0, last = 0;
        foreach (var m in _specialRegex.EnumerateMatches(text))
        {
            if (m.Index > last) count += EncodeOrdinary(text[last..m.Index], ids);
            ids?.Add(_specialTokens[text.Substring(m.Index, m.Length)]);
            count++;
            last = m.Index + m.Length;
        }
        if (last < text.Length) count += EncodeOrdinary(text[last..], ids);
        return count;
    }

    int EncodeOrdinary(string text, List<int>? ids)
    {
        if (text.Length == 0) return 0;
        // Qwen2's tokenizer.json asks for NFC. Not string.Normalize: under InvariantGlobalization (Directory.Build.props)
        // it returns its input unchanged, so decomposed accents would tokenize unlike Hugging Face's. Ours leaves lone
        // surrogates as they are and returns the same instance for text already in NFC.
        if (_nfc) text = UnicodeNfc.Normalize(text);
        if (_addPrefixSpace && !char.IsWhiteSpace(text[0])) text = " " + text;
        var pieces = new List<(int Start, int Length)>();
        _preTokenizer.Split(text, pieces);
        int count = 0;
        foreach (var (start, length) in pieces)
        {
            var piece = text.AsSpan(start, length);
            if (!_cacheLookup.TryGetValue(piece, out var pieceIds))
            {
                pieceIds = EncodePiece(piece);
                if (_cache.Count >= CacheLimit) _cache.Clear(); // crude bound: the cache refills with the text at hand
                _cacheLookup.TryAdd(piece, pieceIds);
            }
            ids?.AddRange(pieceIds);
            count += pieceIds.Length;
        }
        return count;
    }

    int[] EncodePiece(ReadOnlySpan<char> piece)
    {
        int max = Encoding.UTF8.GetMaxByteCount(piece.Length);
        byte[]? rented = max > 512 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> buffer = rented ?? stackalloc byte[512];
        try
        {
            int n = Encoding.UTF8.GetBytes(piece, buffer); // a lone surrogate becomes EF BF BD (U+FFFD)
            return BytePairEncode(buffer[..n]);
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Merges the piece's bytes, always the lowest-ranked adjacent pair first (leftmost on ties).</summary>
    int[] BytePairEncode(ReadOnlySpan<byte> bytes)
    {
        int n = bytes.Length;
        if (n == 1) return [_byteIds[bytes[0]]];
        if (_ignoreMerges && n <= 256)
        {
            Span<char> spelled = stackalloc char[n];
            for (int i = 0; i < n; i++) spelled[i] = ByteLevel.ToChar(bytes[i]);
            if (_vocabLookup.TryGetValue(spelled, out var whole)) return [whole];
        }

        var symbols = new int[n];   // current token ids
        var ranks = new Merge[n];   // ranks[i]: merge of symbols[i] and symbols[i+1], Rank = int.MaxValue when none
        for (int i = 0; i < n; i++) symbols[i] = _byteIds[bytes[i]];
        for (int i = 0; i < n - 1; i++) ranks[i] = Lookup(symbols[i], symbols[i + 1]);
        while (n > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i < n - 1; i++)
            {
                if (ranks[i].Rank < bestRank) { bestRank = ranks[i].Rank; best = i; }
            }
            if (best < 0) break;
            symbols[best] = ranks[best].Id;
            Array.Copy(symbols, best + 2, symbols, best + 1, n - best - 2);
            Array.Copy(ranks, best + 2, ranks, best + 1, n - best - 2);
            n--;
            if (best > 0) ranks[best - 1] = Lookup(symbols[best - 1], symbols[best]);
            if (best < n - 1) ranks[best] = Lookup(symbols[best], symbols[best + 1]);
        }
        return symbols[..n];
    }

    Merge Lookup(int left, int right) =>
        _merges.TryGetValue(Key(left, right), out var m) ? m : new Merge(int.MaxValue, -1);

    public string Decode(ReadOnlySpan<int> ids) => Decode(ids, skipSpecialTokens: false);

    /// <summary>The UTF-8 of the tokens' bytes; invalid sequences (a cut-off character) become U+FFFD.</summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecialTokens)
    {
        var bytes = new ArrayBufferWriter<byte>(ids.Length * 4 + 16);
        foreach (var id in ids)
        {
            if (skipSpecialTokens && IsSpecial(id)) continue;
            bytes.Write(TokenBytes(id));
        }
        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    /// <summary>A decoder for generated ids that only ever returns whole characters.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecialTokens = true) => new(this, skipSpecialTokens);
}
