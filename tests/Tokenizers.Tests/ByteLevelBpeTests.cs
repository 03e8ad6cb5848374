using System.Text;
using Rag.Testing;

namespace Rag.Tokenizers.Tests;

public class ByteLevelBpeTests
{
    static readonly Lazy<(TempDir Dir, ByteLevelBpeTokenizer Tokenizer)> TinyQwen = new(() =>
    {
        var dir = new TempDir();
        TinyTokenizers.WriteByteLevelBpe(dir.Path, "qwen2");
        return (dir, (ByteLevelBpeTokenizer)TokenizerFactory.Load(dir.Path));
    });

    internal static ByteLevelBpeTokenizer Tiny => TinyQwen.Value.Tokenizer;

    /// <summary>Random strings from a fixed seed, mixing every kind of text that has broken tokenizers.</summary>
    internal static IEnumerable<string> RandomUnicode(int seed, int count)
    {
        var rng = new Random(seed);
        string[] fragments =
        [
            "the", " ", "  ", "\t", "\n", "\r\n", "'s", "'LL", "123456", "٣٤", "!?", "...", "é", "e\u0301", "a\u0308\u0323",
            "ß", "İ", "Σ", "中文", "日本", "한국어", "العربية", "हिन्दी", "👍", "👍🏽", "👨\u200D👩\u200D👧\u200D👦", "🇫🇷", "❤\uFE0F",
            "𝐀𝐁", "𝟏𝟐𝟑𝟒", "𠀀", "\u0000", "\u0007", "\u007F", "\u0085", "\u00A0", "\u200B", "\u2028", "\u3000", "\uFEFF", "\uFFFD",
            "<|im_start|>", "<|endoftext|>",
        ];
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            int parts = rng.Next(0, 24);
            for (int p = 0; p < parts; p++)
            {
                if (rng.Next(3) == 0)
                {
                    // Any scalar value at all, from every plane.
                    int cp;
                    do cp = rng.Next(0, 0x110000); while (cp is >= 0xD800 and <= 0xDFFF);
                    sb.Append(char.ConvertFromUtf32(cp));
                }
                else sb.Append(fragments[rng.Next(fragments.Length)]);
            }
            yield return sb.ToString();
        }
    }

    static void AssertRoundTrips(ByteLevelBpeTokenizer tokenizer, int seed)
    {
        foreach (var text in RandomUnicode(seed, 400))
        {
            var ids = tokenizer.Encode(text);
            Assert.Equal(text, tokenizer.Decode(ids));
            Assert.Equal(ids.Length, tokenizer.CountTokens(text));
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(text, allowSpecial: true)));
        }
    }

    [Fact]
    public void Round_trip_over_random_unicode_tiny_vocab() => AssertRoundTrips(Tiny, seed: 1);

    [SkippableFact]
    public void Round_trip_over_random_unicode_gpt2()
    {
        KnownIdsTests.Require("gpt2-bpe/encoder.json");
        KnownIdsTests.Require("gpt2-bpe/vocab.bpe");
        AssertRoundTrips(KnownIdsTests.Gpt2.Value, seed: 2);
    }

    [SkippableFact]
    public void Round_trip_over_random_unicode_llama3()
    {
        KnownIdsTests.Require("llama3-tokenizer/tokenizer.model");
        AssertRoundTrips(KnownIdsTests.Llama3.Value, seed: 3);
    }

    [Fact]
    public void Lone_surrogates_encode_as_replacement_characters()
    {
        Assert.Equal("a\uFFFDb", Tiny.Decode(Tiny.Encode("a\uD800b")));
        Assert.Equal("\uFFFD", Tiny.Decode(Tiny.Encode("\uDC00")));
        Assert.Equal("x\uFFFD", Tiny.Decode(Tiny.Encode("x\uD83D"))); // a high surrogate cut off at the end
    }

    [Fact]
    public void Special_tokens_are_text_unless_allowed()
    {
        int start = Tiny.TokenToId("<|im_start|>")!.Value, end = Tiny.TokenToId("<|im_end|>")!.Value;
        var prompt = "<|im_start|>user\nHi<|im_end|>";
        var ids = Tiny.Encode(prompt, allowSpecial: true);
        Assert.Equal(start, ids[0]);
        Assert.Equal(end, ids[^1]);
        Assert.Equal(Tiny.Encode("user\nHi"), ids[1..^1]);
        Assert.DoesNotContain(start, Tiny.Encode(prompt));
        Assert.True(Tiny.IsSpecial(start));
        Assert.Equal("user\nHi", Tiny.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Ids_and_tokens_map_both_ways()
    {
        var space = Tiny.TokenToId("Ġ")!.Value; // GPT-2's byte-level spelling of " "
        Assert.Equal("Ġ", Tiny.IdToToken(space));
        Assert.Equal([(byte)' '], Tiny.TokenBytes(space).ToArray());
        Assert.Null(Tiny.IdToToken(-1));
        Assert.Null(Tiny.IdToToken(Tiny.VocabularySize));
        Assert.Throws<ArgumentOutOfRangeException>(() => Tiny.Decode([Tiny.VocabularySize]));
    }

    [Fact]
    public void Byte_level_alphabet_round_trips()
    {
        var all = Enumerable.Range(0, 256).Select(b => (byte)b).ToArray();
        var spelled = ByteLevel.Encode(all);
        Assert.Equal(all, ByteLevel.Decode(spelled));
        Assert.Equal('Ġ', ByteLevel.ToChar((byte)' '));
        Assert.Equal('Ċ', ByteLevel.ToChar((byte)'\n'));
        Assert.Null(ByteLevel.Decode("€"));
    }

    [Fact]
    public void Pre_tokenizer_treats_supplementary_letters_and_digits_as_rust_does()
    {
        static string[] Pieces(string pattern, string text)
        {
            var list = new List<(int Start, int Length)>();
            new PreTokenizer(pattern).Split(text, list);
            return [.. list.Select(p => text.Substring(p.Start, p.Length))];
        }
        // 𝐀 (U+1D400) is a letter and 𝟏 (U+1D7CF) a digit, though .NET's Regex sees each as two surrogates.
        // Expected pieces are Python regex's (the `regex` module) findall on the same pattern and text.
        Assert.Equal(["𝐀𝐁", " x", " ", "𝟏𝟐𝟑", "𝟒", "!"], Pieces(PreTokenizer.Llama3Pattern, "𝐀𝐁 x 𝟏𝟐𝟑𝟒!"));
        Assert.Equal(["Hello", " world", "'s", " 👍🏽", "  ", " x"], Pieces(PreTokenizer.Gpt2Pattern, "Hello world's 👍🏽   x"));
        Assert.Equal(["I", "'LL", " ", "1", "2", "3"], Pieces(PreTokenizer.Qwen2Pattern, "I'LL 123"));
    }

    [Fact]
    public void Concurrent_encoding_gives_the_same_ids()
    {
        var texts = RandomUnicode(seed: 9, count: 200).ToArray();
        var fresh = (ByteLevelBpeTokenizer)TokenizerFactory.Load(TinyQwen.Value.Dir.Path);
        var sequential = texts.Select(t => Tiny.Encode(t)).ToArray();
        var parallel = new int[texts.Length][];
        Parallel.For(0, texts.Length, i => parallel[i] = fresh.Encode(texts[i]));
        for (int i = 0; i < texts.Length; i++) Assert.Equal(sequential[i], parallel[i]);
    }
}
