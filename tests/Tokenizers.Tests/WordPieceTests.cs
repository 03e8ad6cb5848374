using Rag.Testing;

namespace Rag.Tokenizers.Tests;

public class WordPieceTests
{
    static readonly Lazy<(TempDir Dir, WordPieceTokenizer Tokenizer)> Tiny = new(() =>
    {
        var dir = new TempDir();
        TinyTokenizers.WriteWordPieceVocab(dir.Path, ["unaffable", "cafe"]);
        return (dir, WordPieceTokenizer.FromVocabFile(Path.Combine(dir.Path, "vocab.txt"), WordPieceOptions.FromTokenizerConfig(Path.Combine(dir.Path, "tokenizer_config.json"))));
    });

    static WordPieceTokenizer T => Tiny.Value.Tokenizer;

    static string[] Tokens(WordPieceTokenizer t, string text) => [.. t.Encode(text).Select(id => t.IdToToken(id)!)];

    [Fact]
    public void Basic_tokenizer_lowercases_strips_accents_and_splits_punctuation()
    {
        Assert.Equal(["the", "cafe", "'", "s", "dog", "!", "?"], Tokens(T, "The Café's DOG!?"));
        Assert.Equal(["hello", ",", "world"], Tokens(T, "  Hello ,\tworld\n"));
    }

    [Fact]
    public void Greedy_longest_match_first_uses_continuation_pieces()
    {
        // "unaffable" is in the vocabulary whole; "dogs" is not, so the longest prefix "dog" then "##s".
        Assert.Equal(["unaffable"], Tokens(T, "unaffable"));
        Assert.Equal(["dog", "##s"], Tokens(T, "dogs"));
        Assert.Equal(["test", "##ing"], Tokens(T, "testing"));
    }

    [Fact]
    public void Word_over_100_chars_is_one_unk()
    {
        var text = "x " + new string('a', 101) + " y";
        Assert.Equal(["x", "[UNK]", "y"], Tokens(T, text));
        var spans = T.EncodeWithOffsets(text);
        Assert.Equal(new TokenSpan(T.UnkId, 2, 103), spans[1]);
        Assert.Equal(["a", "##a"], Tokens(T, "aa")); // 100 chars or fewer go through wordpiece
    }

    [Fact]
    public void Unknown_character_makes_the_whole_word_unk()
    {
        Assert.Equal(["[UNK]", "dog"], Tokens(T, "dog\u0416s dog"));
    }

    [Fact]
    public void Control_and_format_characters_are_dropped_and_unicode_spaces_split()
    {
        Assert.Equal(["dog", "cat"], Tokens(T, "d\u0001o\u200Bg\u00A0cat\uFFFD"));
        Assert.Equal(["dog", "cat"], Tokens(T, "dog\u2028cat"));
        Assert.Equal(["dog"], Tokens(T, "\uD800dog")); // a lone surrogate is a control character (Cs)
    }

    [Fact]
    public void Cjk_ideographs_become_single_words_and_unknown_ones_unk()
    {
        Assert.Equal(["dog", "[UNK]", "[UNK]", "cat"], Tokens(T, "dog你好cat"));
    }

    [Fact]
    public void Cased_options_keep_case_and_accents()
    {
        var cased = new WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Café", "café", "cafe", "Dog"],
            new WordPieceOptions { LowerCase = false });
        Assert.Equal([5, 8], cased.Encode("Café Dog"));
        var stripOnly = new WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "Cafe"],
            new WordPieceOptions { LowerCase = false, StripAccents = true });
        Assert.Equal([5], stripOnly.Encode("Café"));
    }

    [Fact]
    public void Offsets_point_into_the_original_text()
    {
        var text = "The CAFÉ's dogs, un\u0301affable!";
        var spans = T.EncodeWithOffsets(text);
        Assert.Equal(T.Encode(text), spans.Select(s => s.Id));
        Assert.Equal(["The", "CAFÉ", "'", "s", "dog", "s", ",", "un\u0301affable", "!"], spans.Select(s => text[s.Start..s.End]));
    }

    [SkippableFact]
    public void Offsets_cover_tokens_in_order_on_real_text()
    {
        KnownIdsTests.Require("bert-base-uncased/vocab.txt");
        var bert = KnownIdsTests.BertVocab.Value;
        var text = "Héllo, Wörld! 你好 naïve ÀÉÎ résumé — “quoted” 👍 한국어 x² Ǆemal";
        var spans = bert.EncodeWithOffsets(text);
        // Pieces of one character (a Hangul syllable's jamo) share its span; otherwise spans follow each other.
        TokenSpan previous = default;
        foreach (var s in spans)
        {
            Assert.True(s.End > s.Start && s.End <= text.Length, $"span {s}");
            Assert.True(s.Start >= previous.End || (s.Start == previous.Start && s.End == previous.End), $"span {s} after {previous}");
            previous = s;
        }
        Assert.Equal(bert.Encode(text), spans.Select(s => s.Id));
        Assert.Equal("Héllo", text[spans[0].Start..spans[0].End]);
        Assert.Equal("好", text[spans[5].Start..spans[5].End]);
    }

    [SkippableFact]
    public void Hangul_is_decomposed_into_jamo_when_stripping_accents()
    {
        KnownIdsTests.Require("bert-base-uncased/vocab.txt");
        var bert = KnownIdsTests.BertVocab.Value;
        // NFD turns each syllable into conjoining jamo, as Hugging Face's BertNormalizer does for uncased models.
        Assert.Equal(["ᄒ", "##ᅡ", "##ᆫ"], Tokens(bert, "한"));
    }

    [Fact]
    public void Count_tokens_equals_encode_length()
    {
        foreach (var text in new[] { "", "The quick brown fox.", "dog\u0416s 你好 " + new string('z', 120), "CAFÉ's!!" })
            Assert.Equal(T.Encode(text).Length, T.CountTokens(text));
    }

    [Fact]
    public void Decode_glues_pieces_and_cleans_spaces_before_punctuation()
    {
        Assert.Equal("the dogs, testing!", T.Decode(T.Encode("The dogs, testing!")));
    }

    [Fact]
    public void Batch_adds_cls_sep_and_pads_to_the_longest()
    {
        var batch = T.EncodeBatch(["the dog", "the quick brown fox"], maxLength: 16);
        Assert.Equal((2, 6), (batch.BatchSize, batch.SequenceLength));
        int cls = T.ClsId, sep = T.SepId, pad = T.PadId;
        Assert.Equal([cls, T.TokenToId("the")!.Value, T.TokenToId("dog")!.Value, sep, pad, pad], batch.Row(0).ToArray());
        Assert.Equal([1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1], batch.AttentionMask);
        Assert.All(batch.TokenTypeIds, t => Assert.Equal(0, t));
        Assert.Equal(4, batch.Length(0));

        var padded = T.EncodeBatch(["the dog"], maxLength: 16, padToMaxLength: true);
        Assert.Equal(16, padded.SequenceLength);
        Assert.Equal(4, padded.Length(0));
    }

    [Fact]
    public void Batch_truncates_single_texts_to_max_length()
    {
        var batch = T.EncodeBatch(["the quick brown fox jumps over the lazy dog"], maxLength: 5);
        Assert.Equal(5, batch.SequenceLength);
        Assert.Equal([T.ClsId, .. T.Encode("the quick brown"), T.SepId], batch.Row(0).ToArray());
    }

    [Fact]
    public void Pairs_truncate_longest_first_and_mark_the_second_segment()
    {
        var a = "the quick brown fox jumps over the lazy dog"; // 9 tokens
        var b = "what is the dog";                             // 4 tokens
        var batch = T.EncodeBatch([a], maxLength: 12, pairs: [b]);
        // 12 - 3 specials = 9 = 5 from a + 4 from b: tokens come off the longer side first.
        var expected = new[] { T.ClsId }.Concat(T.Encode(a)[..5]).Append(T.SepId).Concat(T.Encode(b)).Append(T.SepId).ToArray();
        Assert.Equal(expected, batch.Row(0).ToArray());
        Assert.Equal([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1], batch.TokenTypeIds);

        var even = T.EncodeBatch([a], maxLength: 7, pairs: [b]);
        Assert.Equal(7, even.Length(0)); // 4 left: 2 and 2
        Assert.Equal([0, 0, 0, 0, 1, 1, 1], even.TokenTypeIds);
    }

    [Fact]
    public void Batch_rejects_bad_arguments()
    {
        Assert.Throws<ArgumentException>(() => T.EncodeBatch(["a", "b"], 8, pairs: ["c"]));
        Assert.Throws<ArgumentOutOfRangeException>(() => T.EncodeBatch(["a"], 2, pairs: ["c"]));
    }
}
