using Rag.Testing;

namespace Rag.Tokenizers.Tests;

/// <summary>Published ids on the real vocabularies in ../shared/data (see each folder's SOURCES.md).</summary>
public class KnownIdsTests
{
    internal static string Require(string relativePath)
    {
        var path = SharedData.File(relativePath);
        Skip.If(path is null, SharedData.MissingReason(relativePath));
        return path!;
    }

    internal static readonly Lazy<WordPieceTokenizer> BertVocab = new(() =>
        WordPieceTokenizer.FromVocabFile(SharedData.File("bert-base-uncased/vocab.txt")!));

    internal static readonly Lazy<ByteLevelBpeTokenizer> Gpt2 = new(() =>
        ByteLevelBpeTokenizer.FromVocabAndMerges(SharedData.File("gpt2-bpe/encoder.json")!, SharedData.File("gpt2-bpe/vocab.bpe")!));

    internal static readonly Lazy<ByteLevelBpeTokenizer> Llama3 = new(() =>
        ByteLevelBpeTokenizer.FromTiktoken(SharedData.File("llama3-tokenizer/tokenizer.model")!));

    [SkippableFact]
    public void Bert_uncased_vocab_txt_hello_world()
    {
        Require("bert-base-uncased/vocab.txt");
        var bert = BertVocab.Value;
        var batch = bert.EncodeBatch(["Hello, world!"], maxLength: 512);
        Assert.Equal([101, 7592, 1010, 2088, 999, 102], batch.Row(0).ToArray());
        Assert.Equal(30522, bert.VocabularySize);
        Assert.Equal((101, 102, 0, 100, 103), (bert.ClsId, bert.SepId, bert.PadId, bert.UnkId, bert.MaskId));
    }

    [SkippableFact]
    public void Bert_uncased_tokenizer_json_gives_the_same_ids()
    {
        var path = Require("bert-base-uncased/tokenizer.json");
        var bert = WordPieceTokenizer.FromTokenizerJson(path);
        Assert.Equal([7592, 1010, 2088, 999], bert.Encode("Hello, world!"));
        Assert.True(bert.Options.LowerCase);
        Assert.Equal(30522, bert.VocabularySize);
    }

    [SkippableFact]
    public void Gpt2_hello_world()
    {
        Require("gpt2-bpe/encoder.json");
        Require("gpt2-bpe/vocab.bpe");
        var gpt2 = Gpt2.Value;
        Assert.Equal([15496, 995], gpt2.Encode("Hello world"));
        Assert.Equal(50257, gpt2.VocabularySize);
        Assert.Equal(50256, gpt2.EosId);
        Assert.Equal("Hello world", gpt2.Decode([15496, 995]));
    }

    [SkippableFact]
    public void Gpt2_tokenizer_json_matches_encoder_json()
    {
        var path = Require("gpt2-bpe/tokenizer_trunc50.json");
        Require("gpt2-bpe/encoder.json");
        Require("gpt2-bpe/vocab.bpe");
        // The file's truncation block (max_length 50) is a saved setting of the uploader; Encode never truncates.
        var fromJson = ByteLevelBpeTokenizer.FromTokenizerJson(path);
        var text = string.Concat(Enumerable.Repeat("The quick brown fox jumps over the lazy dog. ", 20));
        var ids = fromJson.Encode(text);
        Assert.True(ids.Length > 50);
        Assert.Equal(Gpt2.Value.Encode(text), ids);
        Assert.Equal(50256, fromJson.TokenToId("<|endoftext|>"));
        Assert.Equal([15496, 995], fromJson.Encode("Hello world"));
    }

    [SkippableFact]
    public void Llama3_tiktoken_known_ids()
    {
        Require("llama3-tokenizer/tokenizer.model");
        var llama = Llama3.Value;
        Assert.Equal([2028, 374, 264, 1296, 11914, 13], llama.Encode("This is a test sentence."));
        Assert.Equal([882], llama.Encode("user"));
        Assert.Equal([271], llama.Encode("\n\n"));
        Assert.Equal(128256, llama.VocabularySize);
        Assert.Equal(128000, llama.BosId);
        Assert.Equal([128001, 128009], llama.EosIds);
    }

    [SkippableFact]
    public void Llama3_special_tokens_only_when_allowed()
    {
        Require("llama3-tokenizer/tokenizer.model");
        var llama = Llama3.Value;
        var prompt = "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        var ids = llama.Encode(prompt, allowSpecial: true);
        Assert.Equal([128000, 128006, 882, 128007, 271], ids[..5]);
        Assert.Equal(128009, ids[^1]);
        Assert.DoesNotContain(128000, llama.Encode(prompt));
        Assert.Equal(prompt, llama.Decode(ids));
        Assert.Equal(prompt, llama.Decode(llama.Encode(prompt)));
    }
}
