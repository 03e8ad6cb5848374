using System.Text;
using System.Text.Json;

namespace Rag.Tokenizers;

/// <summary>Loading byte-level BPE from the three file layouts models ship with.</summary>
public sealed partial class ByteLevelBpeTokenizer
{
    /// <summary>
    /// From GPT-2's encoder.json + vocab.bpe, or the Hugging Face names vocab.json + merges.txt.
    /// Added tokens in the vocabulary that look like &lt;|...|&gt; (GPT-2's &lt;|endoftext|&gt;) become special tokens too.
    /// </summary>
    public static ByteLevelBpeTokenizer FromVocabAndMerges(
        string vocabPath, string mergesPath, string? pattern = null, IReadOnlyDictionary<string, int>? specialTokens = null)
    {
        Dictionary<string, int> vocab;
        using (var doc = TokenizerFiles.ReadJson(vocabPath)) vocab = TokenizerFiles.ReadVocabObject(doc.RootElement, vocabPath);
        var merges = ReadMergesFile(mergesPath);
        var specials = new Dictionary<string, int>(specialTokens ?? new Dictionary<string, int>(), StringComparer.Ordinal);
        foreach (var (token, id) in vocab)
        {
            if (token.StartsWith("<|", StringComparison.Ordinal) && token.EndsWith("|>", StringComparison.Ordinal)) specials.TryAdd(token, id);
        }
        ByteLevelBpeTokenizer tokenizer;
        try { tokenizer = new ByteLevelBpeTokenizer(vocab, merges, pattern ?? PreTokenizer.Gpt2Pattern, specials); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{vocabPath} with {mergesPath}: {e.Message}", e); }
        if (tokenizer.TokenToId("<|endoftext|>") is { } eot)
        {
            tokenizer.BosId = eot; // GPT-2 uses <|endoftext|> for both
            tokenizer.EosIds = [eot];
        }
        return tokenizer;
    }

    static List<(string, string)> ReadMergesFile(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        var merges = new List<(string, string)>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.UTF8))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal))) continue;
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
                throw new InvalidDataException($"{path} line {lineNumber}: expected two tokens separated by one space, got \"{line}\".");
            merges.Add((line[..space], line[(space + 1)..]));
        }
        return merges;
    }

    /// <summary>
    /// From a Hugging Face tokenizer.json with a BPE model and a ByteLevel pre-tokenizer (GPT-2), or a Split regex
    /// followed by ByteLevel (Llama 3, Qwen2). Its added_tokens become special tokens.
    /// </summary>
    public static ByteLevelBpeTokenizer FromTokenizerJson(string path)
    {
        using var doc = TokenizerFiles.ReadJson(path);
        var root = doc.RootElement;
        var model = root.Get("model") ?? throw new InvalidDataException($"{path} has no model.");
        if (model.GetString("type") is { } type && type != "BPE") throw new InvalidDataException($"{path}: model type is {type}, not BPE.");
        if (model.GetBool("byte_fallback") == true)
            throw new NotSupportedException($"{path}: a SentencePiece-style BPE with byte_fallback (Llama 2, Mistral) is not supported; only byte-level BPE is.");
        var vocab = TokenizerFiles.ReadVocabObject(model.Get("vocab") ?? throw new InvalidDataException($"{path} has no model.vocab."), path);
        var merges = new List<(string, string)>();
        if (model.Get("merges") is { ValueKind: JsonValueKind.Array } list)
        {
            foreach (var m in list.EnumerateArray())
            {
                // Older files write "a b", newer ones ["a", "b"] (which allows spaces inside tokens).
                if (m.ValueKind == JsonValueKind.String && m.GetString()!.Split(' ') is [var a, var b]) merges.Add((a, b));
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2) merges.Add((m[0].GetString()!, m[1].GetString()!));
                else throw new InvalidDataException($"{path}: merge {merges.Count} is neither \"a b\" nor [\"a\", \"b\"].");
            }
        }

        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        if (root.Get("added_tokens") is { ValueKind: JsonValueKind.Array } added)
        {
            foreach (var t in added.EnumerateArray())
            {
                if (t.GetString("content") is { } content && t.GetInt("id") is { } id) specials[content] = id;
            }
        }

        var (pattern, addPrefixSpace) = ReadPreTokenizer(root.Get("pre_tokenizer"), path);
        bool nfc = root.Get("normalizer") is { } normalizer && normalizer.GetString("type") switch
        {
            "NFC" => true,
            null => false,
            var t => throw new NotSupportedException($"{path}: normalizer {t} is not supported for byte-level BPE (only NFC)."),
        };
        try
        {
            var tokenizer = new ByteLevelBpeTokenizer(vocab, pattern, specials, model.GetBool("ignore_merges") ?? false, addPrefixSpace, nfc);
            tokenizer.AddMerges(merges);
            return tokenizer;
        }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
    }

    static (string Pattern, bool AddPrefixSpace) ReadPreTokenizer(JsonElement? pre, string path)
    {
        if (pre is not { } p) throw new NotSupportedException($"{path} has no pre_tokenizer; only byte-level BPE is supported.");
        switch (p.GetString("type"))
        {
            case "ByteLevel":
                return (PreTokenizer.Gpt2Pattern, p.GetBool("add_prefix_space") ?? false);
            case "Sequence" when p.Get("pretokenizers") is { ValueKind: JsonValueKind.Array } steps:
                string? pattern = null;
                bool prefix = false, byteLevel = false;
                foreach (var step in steps.EnumerateArray())
                {
                    switch (step.GetString("type"))
                    {
                        case "Split":
                            if (pattern is not null) throw new NotSupportedException($"{path}: more than one Split pre-tokenizer is not supported.");
                            if (step.GetBool("invert") == true || (step.GetString("behavior") is { } b && b != "Isolated"))
                                throw new NotSupportedException($"{path}: only Split with behavior Isolated and invert false is supported.");
                            pattern = step.Get("pattern") is { } pat
                                ? pat.GetString("Regex") ?? (pat.GetString("String") is { } s ? System.Text.RegularExpressions.Regex.Escape(s) : null)
                                : null;
                            if (pattern is null) throw new InvalidDataException($"{path}: a Split pre-tokenizer has no pattern.");
                            break;
                        case "ByteLevel":
                            byteLevel = true;
                            prefix = step.GetBool("add_prefix_space") ?? false;
                            if (step.GetBool("use_regex") ?? true) pattern ??= PreTokenizer.Gpt2Pattern;
                            break;
                        case var t:
                            throw new NotSupportedException($"{path}: pre-tokenizer {t} is not supported for byte-level BPE.");
                    }
                }
                if (!byteLevel) throw new NotSupportedException($"{path}: the pre-tokenizer sequence has no ByteLevel step, so this is not a byte-level BPE.");
                return (pattern ?? PreTokenizer.Gpt2Pattern, prefix);
            case var t:
                throw new NotSupportedException($"{path}: pre-tokenizer {t} is not supported; only byte-level BPE (ByteLevel, or Split + ByteLevel) is.");
        }
    }

    void AddMerges(List<(string Left, string Right)> merges)
    {
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!_vocab.TryGetValue(left, out var l) || !_vocab.TryGetValue(right, out var r))
                throw new InvalidDataException($"merge {rank} ({left} {right}) uses a token that is not in the vocabulary.");
            if (!_vocab.TryGetValue(left + right, out var merged))
                throw new InvalidDataException($"merge {rank} ({left} {right}) makes {left + right}, which is not in the vocabulary.");
            _merges.TryAdd(Key(l, r), new Merge(rank, merged)); // a repeated merge keeps its first (best) rank
        }
    }

    /// <summary>
    /// From a tiktoken rank file (Llama 3's tokenizer.model): one "base64-bytes rank" per line, id = rank.
    /// tiktoken merges the adjacent pair whose concatenation has the lowest rank; that is a merge table holding,
    /// for every token, each split of it into two tokens, ranked by the token's own rank.
    /// </summary>
    public static ByteLevelBpeTokenizer FromTiktoken(string path, string? pattern = null, IReadOnlyDictionary<string, int>? specialTokens = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Tokenizer file not found: {path}", path);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path, Encoding.ASCII))
        {
            lineNumber++;
            if (line.Length == 0) continue;
            int space = line.IndexOf(' ');
            byte[] bytes;
            int rank;
            try
            {
                bytes = Convert.FromBase64String(line[..Math.Max(space, 0)]);
                rank = int.Parse(line.AsSpan(space + 1), System.Globalization.CultureInfo.InvariantCulture);
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentOutOfRangeException)
            {
                throw new InvalidDataException($"{path} line {lineNumber}: expected \"<base64 token> <rank>\" as in a tiktoken file.", e);
            }
            if (space <= 0 || bytes.Length == 0) throw new InvalidDataException($"{path} line {lineNumber}: expected \"<base64 token> <rank>\" as in a tiktoken file.");
            if (!vocab.TryAdd(ByteLevel.Encode(bytes), rank)) throw new InvalidDataException($"{path} line {lineNumber}: token repeated.");
        }
        if (vocab.Count == 0) throw new InvalidDataException($"{path} is empty.");
        specialTokens ??= vocab.Count == 128_000 ? Llama3SpecialTokens() : null;

        ByteLevelBpeTokenizer tokenizer;
        try { tokenizer = new ByteLevelBpeTokenizer(vocab, pattern ?? PreTokenizer.Llama3Pattern, specialTokens, ignoreMerges: true, addPrefixSpace: false, nfc: false); }
        catch (InvalidDataException e) { throw new InvalidDataException($"{path}: {e.Message}", e); }
        var lookup = tokenizer._vocabLookup;
        foreach (var (token, rank) in vocab)
        {
            for (int k = 1; k < token.Length; k++)
            {
                if (lookup.TryGetValue(token.AsSpan(0, k), out var left) && lookup.TryGetValue(token.AsSpan(k), out var right))
                    tokenizer._merges[Key(left, right)] = new Merge(rank, rank);
            }
        }
        if (tokenizer.TokenToId("<|begin_of_text|>") is { } bos) tokenizer.BosId = bos;
        if (tokenizer.TokenToId("<|end_of_text|>") is { } eos)
            tokenizer.EosIds = tokenizer.TokenToId("<|eot_id|>") is { } eot ? [eos, eot] : [eos];
        return tokenizer;
    }

    /// <summary>The 256 special tokens Llama 3's tokenizer.py appends after the 128,000 ranks.</summary>
    public static IReadOnlyDictionary<string, int> Llama3SpecialTokens(int firstId = 128_000)
    {
        string[] named =
        [
            "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
            "<|reserved_special_token_2|>", "<|reserved_special_token_3|>", "<|start_header_id|>", "<|end_header_id|>",
            "<|reserved_special_token_4|>", "<|eot_id|>",
        ];
        var tokens = named.Concat(Enumerable.Range(5, 256 - 10).Select(i => $"<|reserved_special_token_{i}|>"));
        return tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => firstId + x.i, StringComparer.Ordinal);
    }
}
