using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Rag.Testing;

/// <summary>
/// Writes tiny tokenizer files in the Hugging Face layout, for tiny random models in tests.
/// Self-contained on purpose (no use of Rag.Tokenizers), so tests of the loaders read files they did not write.
/// </summary>
public static class TinyTokenizers
{
    /// <summary>
    /// vocab.txt (BERT layout: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4, punctuation, digits, letters, ## pieces,
    /// a few hundred common English words, then <paramref name="extraWords"/>) and tokenizer_config.json (uncased).
    /// Returns the vocabulary size.
    /// </summary>
    public static int WriteWordPieceVocab(string dir, IEnumerable<string>? extraWords = null)
    {
        Directory.CreateDirectory(dir);
        var tokens = new List<string> { "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]" };
        tokens.AddRange("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".Select(c => c.ToString()));
        tokens.AddRange("0123456789abcdefghijklmnopqrstuvwxyz".Select(c => c.ToString()));
        tokens.AddRange("0123456789abcdefghijklmnopqrstuvwxyz".Select(c => "##" + c));
        tokens.AddRange(Suffixes.Select(s => "##" + s));
        tokens.AddRange(CommonWords);
        if (extraWords is not null) tokens.AddRange(extraWords.Select(w => w.ToLowerInvariant()));
        var vocab = tokens.Distinct(StringComparer.Ordinal).ToList();
        File.WriteAllLines(Path.Combine(dir, "vocab.txt"), vocab);
        WriteJson(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
        {
            ["tokenizer_class"] = "BertTokenizer",
            ["do_lower_case"] = true,
            ["model_max_length"] = 512,
            ["unk_token"] = "[UNK]",
            ["cls_token"] = "[CLS]",
            ["sep_token"] = "[SEP]",
            ["pad_token"] = "[PAD]",
            ["mask_token"] = "[MASK]",
        });
        return vocab.Count;
    }

    /// <summary>
    /// A small byte-level BPE: the 256 byte tokens, merges learned from a short English text, and the flavour's
    /// special tokens after them. "gpt2": vocab.json (with &lt;|endoftext|&gt;) + merges.txt; "qwen2": vocab.json +
    /// merges.txt + tokenizer_config.json with ChatML's &lt;|endoftext|&gt; &lt;|im_start|&gt; &lt;|im_end|&gt;;
    /// "llama3": tokenizer.json (Split regex + ByteLevel, ignore_merges) with &lt;|begin_of_text|&gt;, &lt;|end_of_text|&gt;,
    /// &lt;|start_header_id|&gt;, &lt;|end_header_id|&gt;, &lt;|eot_id|&gt;. Returns the vocabulary size (special tokens included).
    /// </summary>
    public static int WriteByteLevelBpe(string dir, string flavour = "qwen2")
    {
        Directory.CreateDirectory(dir);
        var (vocab, merges) = TrainBpe(MergeCorpus, mergeCount: 400);
        string[] specials = flavour switch
        {
            "gpt2" => ["<|endoftext|>"],
            "qwen2" => ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
            "llama3" => ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
            _ => throw new ArgumentException($"Unknown flavour {flavour}: use gpt2, qwen2 or llama3.", nameof(flavour)),
        };
        int first = vocab.Count;
        var vocabJson = new JsonObject();
        for (int i = 0; i < vocab.Count; i++) vocabJson[vocab[i]] = i;

        switch (flavour)
        {
            case "gpt2":
                vocabJson[specials[0]] = first; // GPT-2 keeps <|endoftext|> in encoder.json itself
                WriteJson(Path.Combine(dir, "vocab.json"), vocabJson);
                WriteMerges(Path.Combine(dir, "merges.txt"), merges);
                WriteJson(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
                {
                    ["tokenizer_class"] = "GPT2Tokenizer",
                    ["bos_token"] = specials[0],
                    ["eos_token"] = specials[0],
                    ["model_max_length"] = 1024,
                });
                break;
            case "qwen2":
                WriteJson(Path.Combine(dir, "vocab.json"), vocabJson);
                WriteMerges(Path.Combine(dir, "merges.txt"), merges);
                var decoder = new JsonObject();
                for (int i = 0; i < specials.Length; i++) decoder[(first + i).ToString()] = AddedToken(specials[i], first + i, withId: false);
                WriteJson(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
                {
                    ["tokenizer_class"] = "Qwen2Tokenizer",
                    ["added_tokens_decoder"] = decoder,
                    ["bos_token"] = null,
                    ["eos_token"] = "<|im_end|>",
                    ["pad_token"] = "<|endoftext|>",
                    ["model_max_length"] = 32768,
                });
                break;
            case "llama3":
                var added = new JsonArray();
                for (int i = 0; i < specials.Length; i++) added.Add(AddedToken(specials[i], first + i, withId: true));
                WriteJson(Path.Combine(dir, "tokenizer.json"), TokenizerJson(vocabJson, merges, Llama3Regex, normalizer: null, ignoreMerges: true, added));
                WriteJson(Path.Combine(dir, "tokenizer_config.json"), new JsonObject
                {
                    ["tokenizer_class"] = "PreTrainedTokenizerFast",
                    ["bos_token"] = "<|begin_of_text|>",
                    ["eos_token"] = "<|end_of_text|>",
                    ["model_max_length"] = 8192,
                });
                break;
        }
        return first + specials.Length;
    }

    /// <summary>
    /// The tiny byte-level BPE as one tokenizer.json, the way Llama 3 and Qwen2 ship it (Split with the given
    /// pre-tokenizer pattern, then ByteLevel), with an optional normalizer such as {"type": "NFC"}.
    /// </summary>
    public static void WriteByteLevelTokenizerJson(string path, string pattern, JsonNode? normalizer = null, bool ignoreMerges = false)
    {
        var (vocab, merges) = TrainBpe(MergeCorpus, mergeCount: 400);
        var vocabJson = new JsonObject();
        for (int i = 0; i < vocab.Count; i++) vocabJson[vocab[i]] = i;
        WriteJson(path, TokenizerJson(vocabJson, merges, pattern, normalizer, ignoreMerges, added: null));
    }

    static JsonObject TokenizerJson(JsonObject vocabJson, List<(string Left, string Right)> merges, string pattern, JsonNode? normalizer, bool ignoreMerges, JsonArray? added) =>
        new()
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added ?? new JsonArray(),
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split",
                        ["pattern"] = new JsonObject { ["Regex"] = pattern },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = false }),
            },
            ["post_processor"] = null,
            ["decoder"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = true, ["trim_offsets"] = true, ["use_regex"] = true },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["ignore_merges"] = ignoreMerges,
                ["vocab"] = vocabJson,
                ["merges"] = new JsonArray([.. merges.Select(m => (JsonNode)JsonValue.Create(m.Left + " " + m.Right))]),
            },
        };

    const string Llama3Regex = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    static JsonObject AddedToken(string content, int id, bool withId)
    {
        var token = new JsonObject();
        if (withId) token["id"] = id;
        token["content"] = content;
        token["single_word"] = false;
        token["lstrip"] = false;
        token["rstrip"] = false;
        token["normalized"] = false;
        token["special"] = true;
        return token;
    }

    static void WriteJson(string path, JsonNode node) =>
        File.WriteAllText(path, node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }), new UTF8Encoding(false));

    static void WriteMerges(string path, List<(string Left, string Right)> merges) =>
        File.WriteAllLines(path, ["#version: 0.2", .. merges.Select(m => m.Left + " " + m.Right)], new UTF8Encoding(false));

    /// <summary>GPT-2's bytes_to_unicode: printable Latin-1 bytes stand for themselves, the others for U+0100 upwards.</summary>
    static char[] BytesToUnicode()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
            map[b] = b is (>= '!' and <= '~') or (>= '¡' and <= '¬') or (>= '®' and <= 'ÿ') ? (char)b : (char)next++;
        return map;
    }

    /// <summary>
    /// Plain BPE training (Sennrich et al. 2016) over byte-level words: repeatedly merge the most frequent adjacent
    /// pair (ties to the ordinally smallest pair, so the output never changes). Vocabulary: 256 bytes in GPT-2's order, then merges.
    /// </summary>
    static (List<string> Vocab, List<(string Left, string Right)> Merges) TrainBpe(string corpus, int mergeCount)
    {
        var byteChar = BytesToUnicode();
        var vocab = byteChar.OrderBy(c => c).Select(c => c.ToString()).ToList();
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (Match m in Regex.Matches(corpus, @" ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+"))
        {
            var spelled = new string([.. Encoding.UTF8.GetBytes(m.Value).Select(b => byteChar[b])]);
            words[spelled] = words.GetValueOrDefault(spelled) + 1;
        }
        var symbols = words.Select(w => (Parts: w.Key.Select(c => c.ToString()).ToList(), Count: w.Value)).ToList();
        var merges = new List<(string, string)>();
        for (int step = 0; step < mergeCount; step++)
        {
            var pairs = new Dictionary<(string, string), int>();
            foreach (var (parts, count) in symbols)
                for (int i = 0; i + 1 < parts.Count; i++) pairs[(parts[i], parts[i + 1])] = pairs.GetValueOrDefault((parts[i], parts[i + 1])) + count;
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1, StringComparer.Ordinal).ThenBy(p => p.Key.Item2, StringComparer.Ordinal).First();
            if (best.Value < 2) break;
            var (left, right) = best.Key;
            merges.Add((left, right));
            vocab.Add(left + right);
            foreach (var (parts, _) in symbols)
            {
                for (int i = 0; i + 1 < parts.Count; i++)
                {
                    if (parts[i] == left && parts[i + 1] == right)
                    {
                        parts[i] = left + right;
                        parts.RemoveAt(i + 1);
                    }
                }
            }
        }
        return (vocab, merges);
    }

    const string MergeCorpus = """
        The quick brown fox jumps over the lazy dog. The question is answered from the passages that the retriever finds.
        In the beginning there was a document, and the document was split into chunks; each chunk was encoded and indexed.
        What is the capital of France? Paris is the capital and the largest city of France. Where is the Eiffel Tower?
        The tower is in Paris. Who wrote the book? She wrote it in 1999 and they have been reading it since then.
        Students were learning, teachers were teaching, and the people of the city were working and living together.
        This is a test sentence, and that is another one: they're testing the tokenizer's handling of words we've seen.
        Answering questions with citations [1] and [2] needs the model to read the passages carefully and thoroughly.
        The Super Bowl was played in the stadium in February; the game was won by the team from Denver.
        """;

    static readonly string[] Suffixes = ["s", "es", "ed", "ing", "ly", "er", "est", "ion", "tion", "ment", "ness", "al", "ity", "ive", "able", "ful", "less"];

    static readonly string[] CommonWords =
    [
        "the", "of", "and", "to", "in", "a", "is", "was", "that", "for", "it", "as", "with", "be", "on", "by", "he", "she", "at", "from",
        "his", "her", "an", "were", "are", "which", "this", "or", "had", "not", "but", "first", "one", "their", "they", "also", "its",
        "has", "have", "after", "new", "been", "who", "other", "more", "two", "all", "when", "there", "into", "time", "can", "year",
        "years", "only", "over", "such", "most", "some", "would", "many", "than", "these", "three", "may", "later", "used", "between",
        "about", "world", "during", "him", "while", "where", "then", "both", "through", "state", "city", "under", "well", "however",
        "known", "made", "part", "use", "called", "people", "since", "united", "states", "number", "found", "each", "national",
        "including", "what", "how", "why", "if", "so", "no", "yes", "do", "does", "did", "could", "should", "will", "our", "we", "you",
        "your", "i", "me", "my", "them", "those", "any", "same", "name", "school", "war", "high", "day", "four", "five", "large",
        "small", "long", "great", "early", "american", "government", "system", "university", "water", "century", "area", "team",
        "game", "season", "music", "book", "film", "history", "country", "family", "work", "life", "house", "power", "law", "group",
        "church", "john", "france", "paris", "london", "capital", "largest", "population", "river", "north", "south", "east", "west",
        "question", "answer", "document", "passage", "text", "word", "model", "data", "test", "sentence", "hello", "world", "quick",
        "brown", "fox", "jumps", "lazy", "dog", "cat", "red", "blue", "green", "old", "young", "man", "woman", "children", "king",
        "queen", "company", "business", "market", "money", "million", "percent", "public", "general", "president", "party",
        "member", "members", "held", "began", "became", "played", "won", "left", "set", "end", "second", "third", "last", "next",
        "life", "time", "way", "place", "home", "following", "based", "several", "much", "own", "against", "before", "because",
        "being", "among", "without", "within", "around", "near", "often", "again", "very", "even", "still", "just", "now", "here",
        "make", "take", "get", "give", "go", "see", "say", "said", "know", "think", "come", "find", "tell", "ask", "seem", "feel",
        "try", "leave", "call", "good", "bad", "right", "wrong", "true", "false", "big", "little", "different", "important", "same",
        "science", "art", "energy", "light", "air", "earth", "sun", "moon", "star", "space", "computer", "language", "english",
        "bowl", "super", "stadium", "february", "denver", "tower", "eiffel", "learning", "reading", "writing", "teaching",
    ];
}
