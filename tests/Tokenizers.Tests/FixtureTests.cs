using System.Text.Json;

namespace Rag.Tokenizers.Tests;

/// <summary>
/// Ids for a few hundred varied strings recorded by tools/tokenizers/make_reference.py. The committed *.reference.json
/// come from its ports of the original algorithms (openai encoder.py, tiktoken's merge, google's tokenization.py);
/// *.hf.json files, made where the Hugging Face tokenizers library is installed, are checked the same way when present.
/// </summary>
public class FixtureTests
{
    sealed record Case(string Text, int[] Ids);

    static IEnumerable<(string File, bool AddedTokensMatched, Case[] Cases)> Fixtures(string vocabulary)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "Fixtures");
        foreach (var file in Directory.GetFiles(dir, vocabulary + ".*.json").Order())
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            var cases = doc.RootElement.GetProperty("cases").EnumerateArray()
                .Select(c => new Case(c.GetProperty("text").GetString()!, [.. c.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32())]))
                .ToArray();
            bool matched = doc.RootElement.TryGetProperty("added_tokens_matched", out var m) && m.GetBoolean();
            yield return (Path.GetFileName(file), matched, cases);
        }
    }

    static void AssertAllMatch(string vocabulary, Func<string, int[]> encode) => AssertAllMatch(vocabulary, (text, _) => encode(text));

    /// <summary>encode(text, addedTokensMatched): Hugging Face matches added tokens in plain text, the reference ports do not.</summary>
    static void AssertAllMatch(string vocabulary, Func<string, bool, int[]> encodeWith)
    {
        int checkedFiles = 0;
        foreach (var (file, matched, cases) in Fixtures(vocabulary))
        {
            int[] encode(string text) => encodeWith(text, matched);
            Assert.True(cases.Length >= 300, $"{file} holds only {cases.Length} cases");
            var failures = cases.Where(c => !encode(c.Text).SequenceEqual(c.Ids))
                .Select(c => $"{file}: {JsonSerializer.Serialize(c.Text)}\n  expected [{string.Join(",", c.Ids)}]\n  actual   [{string.Join(",", encode(c.Text))}]")
                .ToList();
            Assert.True(failures.Count == 0, $"{failures.Count} of {cases.Length} differ:\n" + string.Join("\n", failures.Take(8)));
            checkedFiles++;
        }
        Assert.True(checkedFiles > 0, $"no fixture for {vocabulary}");
    }

    [SkippableFact]
    public void Gpt2_matches_reference_ids()
    {
        KnownIdsTests.Require("gpt2-bpe/encoder.json");
        KnownIdsTests.Require("gpt2-bpe/vocab.bpe");
        AssertAllMatch("gpt2", (text, addedTokensMatched) => KnownIdsTests.Gpt2.Value.Encode(text, allowSpecial: addedTokensMatched));
    }

    [SkippableFact]
    public void Llama3_matches_reference_ids()
    {
        KnownIdsTests.Require("llama3-tokenizer/tokenizer.model");
        AssertAllMatch("llama3", (text, addedTokensMatched) => KnownIdsTests.Llama3.Value.Encode(text, allowSpecial: addedTokensMatched));
    }

    [SkippableFact]
    public void Bert_uncased_matches_reference_ids()
    {
        KnownIdsTests.Require("bert-base-uncased/vocab.txt");
        AssertAllMatch("bert-uncased", text => KnownIdsTests.BertVocab.Value.Encode(text));
    }

    [SkippableFact]
    public void Bert_tokenizer_json_matches_reference_ids()
    {
        var path = KnownIdsTests.Require("bert-base-uncased/tokenizer.json");
        var bert = WordPieceTokenizer.FromTokenizerJson(path);
        AssertAllMatch("bert-uncased", text => bert.Encode(text));
    }
}
