using Rag.Tokenizers;

namespace Rag.Neural;

/// <summary>A bi-encoder tower (DPR question or context encoder, or a sentence-transformer): texts to fixed-size vectors.</summary>
public interface ITextEncoderModel : IDisposable
{
    int Dimension { get; }

    /// <summary>Longest input in tokens (special tokens included); longer inputs are truncated.</summary>
    int MaxTokens { get; }

    ITokenizer Tokenizer { get; }

    /// <summary>Instructions the model was trained to see before queries and documents (empty for most).</summary>
    EncoderPrompts Prompts { get; }

    /// <summary>One vector per text, in order. Batches internally; honours cancellation between batches.</summary>
    float[][] Encode(IReadOnlyList<string> texts, CancellationToken ct = default);
}

/// <summary>
/// Text prepended to a query or a document before encoding, as sentence-transformers' prompts do
/// (config_sentence_transformers.json); arctic-embed, for one, expects an instruction before each query.
/// </summary>
public sealed record EncoderPrompts(string Query, string Document)
{
    public static EncoderPrompts None { get; } = new("", "");
}

/// <summary>A decoder language model with its tokenizer: prompt in, text pieces out.</summary>
public interface ITextGeneratorModel : IDisposable
{
    /// <summary>The config's model_type: "gpt2", "llama", "qwen2", ...</summary>
    string Architecture { get; }

    ITokenizer Tokenizer { get; }

    int ContextLength { get; }

    /// <summary>Streams decoded text pieces (never half a UTF-8 character) until EOS, a stop string or MaxNewTokens.</summary>
    IAsyncEnumerable<string> GenerateAsync(string prompt, GenerationOptions options, CancellationToken ct = default);
}

/// <summary>Decoding settings. Temperature 0 is greedy (argmax).</summary>
public sealed record GenerationOptions
{
    public int MaxNewTokens { get; init; } = 256;
    public float Temperature { get; init; } = 0f;
    /// <summary>Keep only the K most likely tokens; 0 disables.</summary>
    public int TopK { get; init; } = 0;
    /// <summary>Nucleus sampling: keep the smallest set whose probability reaches P; 1 disables.</summary>
    public float TopP { get; init; } = 1f;
    /// <summary>CTRL-style penalty on tokens already present; 1 disables.</summary>
    public float RepetitionPenalty { get; init; } = 1f;
    public IReadOnlyList<string> StopStrings { get; init; } = [];
    public int? Seed { get; init; }
}
