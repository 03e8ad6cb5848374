using System.Text.Json.Nodes;
using Rag.Testing;

namespace Rag.Tokenizers.Tests.Normalization;

/// <summary>A Qwen2-style tokenizer.json, whose normalizer is NFC, tokenizes decomposed text as its composed form.</summary>
public class NfcTokenizerTests
{
    /// <summary>The tiny vocabulary and merges as a Qwen2-style tokenizer.json with the given normalizer.</summary>
    static ByteLevelBpeTokenizer TinyQwenJson(TempDir dir, JsonNode? normalizer)
    {
        var path = Path.Combine(dir.Path, normalizer is null ? "plain.json" : "nfc.json");
        TinyTokenizers.WriteByteLevelTokenizerJson(path, PreTokenizer.Qwen2Pattern, normalizer);
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
