using System.Text;

namespace Rag.Tokenizers.Tests;

public class StreamingDecoderTests
{
    static void AssertWhole(string piece)
    {
        for (int i = 0; i < piece.Length; i++)
        {
            Assert.NotEqual('\uFFFD', piece[i]);
            if (char.IsHighSurrogate(piece[i])) Assert.True(i + 1 < piece.Length && char.IsLowSurrogate(piece[++i]), "half a surrogate pair");
            else Assert.False(char.IsLowSurrogate(piece[i]), "half a surrogate pair");
        }
    }

    [Fact]
    public void Emoji_byte_tokens_fed_one_at_a_time_never_yield_a_partial_character()
    {
        var tokenizer = ByteLevelBpeTests.Tiny;
        var emoji = "👨\u200D👩\u200D👧\u200D👦";
        var ids = tokenizer.Encode(emoji);
        Assert.Equal(Encoding.UTF8.GetByteCount(emoji), ids.Length); // the tiny vocabulary has no merges for these bytes
        var decoder = tokenizer.CreateStreamingDecoder();
        var pieces = ids.Select(decoder.Append).ToList();
        pieces.ForEach(AssertWhole);
        Assert.Equal(["", "", "", "👨"], pieces.Take(4));
        Assert.Equal(emoji, string.Concat(pieces) + decoder.Flush());
    }

    [Fact]
    public void Random_text_streams_back_whole()
    {
        var tokenizer = ByteLevelBpeTests.Tiny;
        foreach (var text in ByteLevelBpeTests.RandomUnicode(seed: 5, count: 200))
        {
            var decoder = tokenizer.CreateStreamingDecoder(skipSpecialTokens: false);
            var sb = new StringBuilder();
            foreach (var id in tokenizer.Encode(text, allowSpecial: true))
            {
                var piece = decoder.Append(id);
                if (!text.Contains('\uFFFD')) AssertWhole(piece);
                sb.Append(piece);
            }
            sb.Append(decoder.Flush());
            Assert.Equal(text, sb.ToString());
        }
    }

    [Fact]
    public void Dangling_partial_character_flushes_as_replacement()
    {
        var tokenizer = ByteLevelBpeTests.Tiny;
        var ids = tokenizer.Encode("👍");
        var decoder = tokenizer.CreateStreamingDecoder();
        Assert.Equal("", decoder.Append(ids[0]));
        Assert.Equal("", decoder.Append(ids[1]));
        Assert.Equal("\uFFFD", decoder.Flush());
    }

    [Fact]
    public void Special_tokens_are_skipped_by_default()
    {
        var tokenizer = ByteLevelBpeTests.Tiny;
        var decoder = tokenizer.CreateStreamingDecoder();
        Assert.Equal("", decoder.Append(tokenizer.TokenToId("<|im_end|>")!.Value));
        var keep = tokenizer.CreateStreamingDecoder(skipSpecialTokens: false);
        Assert.Equal("<|im_end|>", keep.Append(tokenizer.TokenToId("<|im_end|>")!.Value));
    }
}
