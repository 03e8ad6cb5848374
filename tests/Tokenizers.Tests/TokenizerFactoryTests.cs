using Rag.Testing;

namespace Rag.Tokenizers.Tests;

public class TokenizerFactoryTests
{
    [Fact]
    public void Tiny_wordpiece_vocab_loads_and_knows_common_words()
    {
        using var dir = new TempDir();
        int size = TinyTokenizers.WriteWordPieceVocab(dir.Path, ["retrieval"]);
        var tokenizer = Assert.IsType<WordPieceTokenizer>(TokenizerFactory.Load(dir.Path));
        Assert.Equal(size, tokenizer.VocabularySize);
        var ids = tokenizer.Encode("The capital of France is Paris. Retrieval!");
        Assert.DoesNotContain(tokenizer.UnkId, ids);
        Assert.Equal("the capital of france is paris. retrieval!", tokenizer.Decode(ids));
        Assert.Equal(tokenizer.TokenToId("retrieval"), ids[^2]);
    }

    [Theory]
    [InlineData("gpt2", "<|endoftext|>")]
    [InlineData("qwen2", "<|im_start|>")]
    [InlineData("llama3", "<|begin_of_text|>")]
    public void Tiny_byte_level_bpe_loads_with_its_special_tokens(string flavour, string special)
    {
        using var dir = new TempDir();
        int size = TinyTokenizers.WriteByteLevelBpe(dir.Path, flavour);
        var tokenizer = Assert.IsType<ByteLevelBpeTokenizer>(TokenizerFactory.Load(dir.Path));
        Assert.Equal(size, tokenizer.VocabularySize);
        var text = "The question is answered from the passages. Ünïcödé 你好 👍🏽";
        var ids = tokenizer.Encode(text);
        Assert.True(ids.Length < System.Text.Encoding.UTF8.GetByteCount(text), "the learned merges shorten English text");
        Assert.Equal(text, tokenizer.Decode(ids));
        var id = tokenizer.TokenToId(special);
        Assert.NotNull(id);
        Assert.Equal([id.Value], tokenizer.Encode(special, allowSpecial: true));
        Assert.NotEqual([id.Value], tokenizer.Encode(special));
        Assert.NotNull(tokenizer.EosId);
    }

    [Fact]
    public void Flavours_pick_their_pre_tokenizer_and_eos()
    {
        using var qwen = new TempDir();
        TinyTokenizers.WriteByteLevelBpe(qwen.Path, "qwen2");
        var q = (ByteLevelBpeTokenizer)TokenizerFactory.Load(qwen.Path);
        Assert.Equal(PreTokenizer.Qwen2Pattern, q.Pattern);
        Assert.Equal(q.TokenToId("<|im_end|>"), q.EosId);

        using var llama = new TempDir();
        TinyTokenizers.WriteByteLevelBpe(llama.Path, "llama3");
        var l = (ByteLevelBpeTokenizer)TokenizerFactory.Load(llama.Path);
        Assert.Equal(PreTokenizer.Llama3Pattern, l.Pattern);
        Assert.Equal(l.TokenToId("<|begin_of_text|>"), l.BosId);
        Assert.Equal(l.TokenToId("<|end_of_text|>"), l.EosId);
    }

    [Fact]
    public void Config_json_eos_ids_win_over_tokenizer_config()
    {
        using var dir = new TempDir();
        TinyTokenizers.WriteByteLevelBpe(dir.Path, "qwen2");
        File.WriteAllText(Path.Combine(dir.Path, "generation_config.json"), """{"bos_token_id": 5, "eos_token_id": [7, 9]}""");
        var t = (ByteLevelBpeTokenizer)TokenizerFactory.Load(dir.Path);
        Assert.Equal(5, t.BosId);
        Assert.Equal([7, 9], t.EosIds);
    }

    [SkippableFact]
    public void Real_folders_load_the_right_tokenizer()
    {
        var bertDir = Path.GetDirectoryName(KnownIdsTests.Require("bert-base-uncased/tokenizer.json"))!;
        var gpt2Dir = Path.GetDirectoryName(KnownIdsTests.Require("gpt2-bpe/encoder.json"))!;
        var llamaDir = Path.GetDirectoryName(KnownIdsTests.Require("llama3-tokenizer/tokenizer.model"))!;
        Assert.Equal([7592, 1010, 2088, 999], Assert.IsType<WordPieceTokenizer>(TokenizerFactory.Load(bertDir)).Encode("Hello, world!"));
        var gpt2 = Assert.IsType<ByteLevelBpeTokenizer>(TokenizerFactory.Load(gpt2Dir)); // encoder.json + vocab.bpe
        Assert.Equal([15496, 995], gpt2.Encode("Hello world"));
        Assert.Equal(PreTokenizer.Gpt2Pattern, gpt2.Pattern);
        var llama = Assert.IsType<ByteLevelBpeTokenizer>(TokenizerFactory.Load(llamaDir));
        Assert.Equal([2028, 374, 264, 1296, 11914, 13], llama.Encode("This is a test sentence."));
        Assert.Equal(128000, llama.BosId);
    }

    [Fact]
    public void Empty_folder_names_the_files_it_looked_for()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FileNotFoundException>(() => TokenizerFactory.Load(dir.Path));
        Assert.Contains("vocab.txt", e.Message);
        Assert.Contains("tokenizer.json", e.Message);
    }

    [Fact]
    public void Missing_merges_is_named()
    {
        using var dir = new TempDir();
        TinyTokenizers.WriteByteLevelBpe(dir.Path, "gpt2");
        File.Delete(Path.Combine(dir.Path, "merges.txt"));
        var e = Assert.Throws<FileNotFoundException>(() => TokenizerFactory.Load(dir.Path));
        Assert.Contains("merges.txt", e.Message);
    }

    [Fact]
    public void Malformed_tokenizer_json_names_the_file()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "tokenizer.json");
        File.WriteAllText(path, """{"model": {"type": "BPE", "vocab": {"a": 0""");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFactory.Load(dir.Path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void Malformed_merges_line_names_file_and_line()
    {
        using var dir = new TempDir();
        TinyTokenizers.WriteByteLevelBpe(dir.Path, "gpt2");
        var merges = Path.Combine(dir.Path, "merges.txt");
        File.AppendAllLines(merges, ["onlyonetoken"]);
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFactory.Load(dir.Path));
        Assert.Contains(merges, e.Message);
        Assert.Contains("line", e.Message);
    }

    [Fact]
    public void Merge_of_unknown_tokens_is_reported()
    {
        using var dir = new TempDir();
        TinyTokenizers.WriteByteLevelBpe(dir.Path, "gpt2");
        File.AppendAllLines(Path.Combine(dir.Path, "merges.txt"), ["zzzq qqqz"]);
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFactory.Load(dir.Path));
        Assert.Contains("merges.txt", e.Message);
    }

    [Fact]
    public void SentencePiece_model_is_refused_clearly()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(Path.Combine(dir.Path, "tokenizer.model"), [0x0A, 0x0B, 0x0A, 0x05, 0x3C, 0x75, 0x6E, 0x6B, 0x3E, 0x15, 0x00]);
        var e = Assert.Throws<NotSupportedException>(() => TokenizerFactory.Load(dir.Path));
        Assert.Contains("SentencePiece", e.Message);
    }

    [Fact]
    public void Bad_tiktoken_line_names_file_and_line()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "tokenizer.model");
        File.WriteAllLines(path, ["IQ== 0", "Ig== 1", "not-base64! 2"]);
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFactory.Load(dir.Path));
        Assert.Contains(path, e.Message);
        Assert.Contains("line 3", e.Message);
    }

    [Fact]
    public void Vocab_txt_without_unk_is_reported()
    {
        using var dir = new TempDir();
        File.WriteAllLines(Path.Combine(dir.Path, "vocab.txt"), ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "a"]);
        var e = Assert.Throws<InvalidDataException>(() => TokenizerFactory.Load(dir.Path));
        Assert.Contains("vocab.txt", e.Message);
        Assert.Contains("[UNK]", e.Message);
    }
}
