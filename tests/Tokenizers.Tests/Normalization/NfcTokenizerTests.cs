using System.Text.Json.Nodes;
using Rag.Testing;

namespace Rag.Tokenizers.Tests.Normalization;

/// <summary>A Qwen2-style tokenizer.json, whose normalizer is NFC, tokenizes decomposed text as its composed form.</summary>
public class NfcTokenizerTests
{
    /// <summary>The tiny Qwen2 vocabulary and merges as a tokenizer.json with the given normalizer (Split + ByteLevel as Qwen2 ships).</summary>
    static ByteLevelBpeTokenizer TinyQwenJson(TempDir dir, JsonNode? normalizer)
    {
        var source = Path.Combine(dir.Path, "source");
        TinyTokenizers.WriteByteLevelBpe(source, "qwen2");
        var merges = new JsonArray();
        foreach (var line in File.ReadLines(Path.Combine(source, "merges.txt")))
        {
            if (line.Length == 0 || line.StartsWith("#version", StringComparison.Ordinal)) continue;
            var pair = line.Split(' ');
            merges.Add(new JsonArray(pair[0], pair[1]));
        }
        var json = new JsonObject
        {
            ["normalizer"] = normalizer,
            ["pre_tokenizer"] = new JsonObject
            {
                ["type"] = "Sequence",
                ["pretokenizers"] = new JsonArray(
                    new JsonObject
                    {
                        ["type"] = "Split",
                        ["pattern"] = new JsonObject { ["Regex"] = PreTokenizer.Qwen2Pattern },
                        ["behavior"] = "Isolated",
                        ["invert"] = false,
                    },
                    new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = false }),
            },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["vocab"] = JsonNode.Parse(File.ReadAllText(Path.Combine(source, "vocab.json"))),
                ["merges"] = merges,
            },
        };
        var path = Path.Combine(dir.Path, normalizer is null ? "plain.json" : "nfc.json");
        File.WriteAllText(path, json.ToJsonString());
        return ByteLevelBpeTokenizer.FromTokenizerJson(path);
    }

    [Fact]
    public void Decomposed_and_precomposed_text_give_the_same_ids()
    {
        using var dir = new TempDir();
        var nfc = TinyQwenJson(dir, new JsonObject { ["type"] = "NFC" });
        var plain = TinyQwenJson(dir, normalizer: null);
        string[] nfcForms = ["caf\u00E9 cr\u00E8me br\u00FBl\u00E9e", "\u00C5ngstr\u00F6m \u00C5", "Vi\u1EC7t Nam", "\uD55C\uAD6D\uC5B4 text", "\u0915\u093C plain"];
        string[] otherForms = ["cafe\u0301 cre\u0300me bru\u0302le\u0301e", "A\u030Angstro\u0308m \u212B", "Vie\u0323\u0302t Nam", "\u1112\u1161\u11AB\u1100\u116E\u11A8\u110B\u1165 text", "\u0958 plain"];
        for (int k = 0; k < nfcForms.Length; k++)
        {
            Assert.Equal(plain.Encode(nfcForms[k]), nfc.Encode(otherForms[k]));
            Assert.Equal(plain.Encode(nfcForms[k]), nfc.Encode(nfcForms[k]));
            Assert.Equal(nfcForms[k], nfc.Decode(nfc.Encode(otherForms[k])));
            // Without the normalizer the two spellings tokenize apart: the test above would catch a no-op NFC.
            Assert.NotEqual(plain.Encode(nfcForms[k]), plain.Encode(otherForms[k]));
        }
    }
}
