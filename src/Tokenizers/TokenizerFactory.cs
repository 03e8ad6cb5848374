using System.Text;
using System.Text.Json;

namespace Rag.Tokenizers;

/// <summary>Loads the tokenizer of a Hugging Face model folder from whichever files it ships.</summary>
public static class TokenizerFactory
{
    /// <summary>
    /// Tries, in order: tokenizer.json (WordPiece or byte-level BPE); vocab.txt (+ tokenizer_config.json);
    /// vocab.json + merges.txt or encoder.json + vocab.bpe; tokenizer.model as a tiktoken rank file.
    /// Special tokens, BOS and EOS come from tokenizer_config.json, generation_config.json and config.json when present.
    /// </summary>
    public static ITokenizer Load(string modelDirectory)
    {
        if (!Directory.Exists(modelDirectory)) throw new DirectoryNotFoundException($"Model folder not found: {modelDirectory}");
        string P(string name) => Path.Combine(modelDirectory, name);
        bool Has(string name) => File.Exists(P(name));

        if (Has("tokenizer.json"))
        {
            var type = ReadModelType(P("tokenizer.json"));
            return type switch
            {
                "WordPiece" => WordPieceTokenizer.FromTokenizerJson(P("tokenizer.json")),
                "BPE" => WithModelConfig(ByteLevelBpeTokenizer.FromTokenizerJson(P("tokenizer.json")), modelDirectory),
                _ => throw new NotSupportedException($"{P("tokenizer.json")}: model type {type} is not supported (WordPiece and BPE are)."),
            };
        }
        if (Has("vocab.txt"))
            return WordPieceTokenizer.FromVocabFile(P("vocab.txt"), WordPieceOptions.FromTokenizerConfig(P("tokenizer_config.json")));

        var (vocab, merges) = Has("vocab.json") || Has("merges.txt") ? ("vocab.json", "merges.txt") : ("encoder.json", "vocab.bpe");
        if (Has(vocab) || Has(merges))
        {
            if (!Has(vocab) || !Has(merges))
                throw new FileNotFoundException($"{modelDirectory} has {(Has(vocab) ? vocab : merges)} but not {(Has(vocab) ? merges : vocab)}; byte-level BPE needs both.");
            var pattern = PreTokenizer.PatternFor(ModelKind(modelDirectory));
            var specials = ConfigSpecialTokens(P("tokenizer_config.json"));
            return WithModelConfig(ByteLevelBpeTokenizer.FromVocabAndMerges(P(vocab), P(merges), pattern, specials), modelDirectory);
        }
        if (Has("tokenizer.model"))
        {
            if (!LooksLikeTiktoken(P("tokenizer.model")))
                throw new NotSupportedException($"{P("tokenizer.model")} is a SentencePiece model (Llama 2, Mistral), which is not supported; only tiktoken rank files (Llama 3) are.");
            var specials = ConfigSpecialTokens(P("tokenizer_config.json"));
            return WithModelConfig(ByteLevelBpeTokenizer.FromTiktoken(P("tokenizer.model"), specialTokens: specials.Count > 0 ? specials : null), modelDirectory);
        }
        throw new FileNotFoundException(
            $"{modelDirectory} has no tokenizer files: expected tokenizer.json, vocab.txt, vocab.json + merges.txt, encoder.json + vocab.bpe, or tokenizer.model.");
    }

    static string ReadModelType(string path)
    {
        using var doc = TokenizerFiles.ReadJson(path);
        return doc.RootElement.Get("model")?.GetString("type") ?? throw new InvalidDataException($"{path} has no model.type.");
    }

    /// <summary>config.json's model_type, else tokenizer_config.json's tokenizer_class: which pre-tokenizer regex applies.</summary>
    static string? ModelKind(string dir)
    {
        using var config = TokenizerFiles.ReadOptionalJson(Path.Combine(dir, "config.json"));
        if (config?.RootElement.GetString("model_type") is { } modelType) return modelType;
        using var tokenizerConfig = TokenizerFiles.ReadOptionalJson(Path.Combine(dir, "tokenizer_config.json"));
        return tokenizerConfig?.RootElement.GetString("tokenizer_class");
    }

    /// <summary>tokenizer_config.json's added_tokens_decoder: {"151643": {"content": "&lt;|endoftext|&gt;", ...}, ...}.</summary>
    static Dictionary<string, int> ConfigSpecialTokens(string path)
    {
        var specials = new Dictionary<string, int>(StringComparer.Ordinal);
        using var doc = TokenizerFiles.ReadOptionalJson(path);
        if (doc?.RootElement.Get("added_tokens_decoder") is { ValueKind: JsonValueKind.Object } added)
        {
            foreach (var p in added.EnumerateObject())
            {
                if (!int.TryParse(p.Name, out var id) || p.Value.GetString("content") is not { } content)
                    throw new InvalidDataException($"{path}: added_tokens_decoder entry {p.Name} needs an integer key and a content.");
                specials[content] = id;
            }
        }
        return specials;
    }

    /// <summary>BOS and EOS from generation_config.json, then config.json, then tokenizer_config.json's token names.</summary>
    static ByteLevelBpeTokenizer WithModelConfig(ByteLevelBpeTokenizer tokenizer, string dir)
    {
        bool bosSet = false, eosSet = false;
        foreach (var name in new[] { "generation_config.json", "config.json" })
        {
            using var doc = TokenizerFiles.ReadOptionalJson(Path.Combine(dir, name));
            if (doc is null) continue;
            var bos = doc.RootElement.GetIds("bos_token_id");
            var eos = doc.RootElement.GetIds("eos_token_id");
            if (!bosSet && bos.Length > 0) (tokenizer.BosId, bosSet) = (bos[0], true);
            if (!eosSet && eos.Length > 0) (tokenizer.EosIds, eosSet) = (eos, true);
        }
        if (bosSet && eosSet) return tokenizer;
        using var config = TokenizerFiles.ReadOptionalJson(Path.Combine(dir, "tokenizer_config.json"));
        if (config is not null)
        {
            if (!bosSet && config.RootElement.GetTokenContent("bos_token") is { } b && tokenizer.TokenToId(b) is { } bosId) tokenizer.BosId = bosId;
            if (!eosSet && config.RootElement.GetTokenContent("eos_token") is { } e && tokenizer.TokenToId(e) is { } eosId && !tokenizer.EosIds.Contains(eosId))
                tokenizer.EosIds = [eosId, .. tokenizer.EosIds];
        }
        return tokenizer;
    }

    /// <summary>A tiktoken file is text: "base64 rank" lines. SentencePiece's tokenizer.model is a binary protobuf.</summary>
    static bool LooksLikeTiktoken(string path)
    {
        using var reader = new StreamReader(path, Encoding.ASCII);
        var first = reader.ReadLine();
        if (first is null) throw new InvalidDataException($"{path} is empty.");
        int space = first.IndexOf(' ');
        return space > 0 && int.TryParse(first.AsSpan(space + 1), out _) && first.AsSpan(0, space).IndexOfAnyExcept(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") < 0;
    }
}
