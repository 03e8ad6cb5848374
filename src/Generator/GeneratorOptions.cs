namespace Rag.Generator;

/// <summary>
/// How answers are generated. Set LocalModelDirectory for an in-process decoder, or RemoteBaseUrl and
/// RemoteModel for an OpenAI-compatible server; with neither, answers are extractive. Setting both is an error.
/// </summary>
public sealed record GeneratorOptions
{
    /// <summary>A decoder in the Hugging Face layout (config.json, model.safetensors, tokenizer files).</summary>
    public string? LocalModelDirectory { get; init; }

    /// <summary>An OpenAI-compatible API root, e.g. http://localhost:11434/v1 (Ollama) or http://host:8000/v1 (vLLM).</summary>
    public string? RemoteBaseUrl { get; init; }
    public string? RemoteApiKey { get; init; }
    public string? RemoteModel { get; init; }

    /// <summary>chatml, llama3 or plain; null picks one from the local model's architecture.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Most tokens an answer may have.</summary>
    public int MaxNewTokens { get; init; } = 256;

    /// <summary>0 is greedy decoding: the same passages and question give the same answer.</summary>
    public float Temperature { get; init; }

    /// <summary>Nucleus sampling threshold; 1 disables.</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>Keep only the K most likely tokens; 0 disables.</summary>
    public int TopK { get; init; }

    public int? Seed { get; init; }

    /// <summary>The remote model's context in tokens (a local model reports its own).</summary>
    public int RemoteContextTokens { get; init; } = 8192;

    /// <summary>Earlier conversation messages (user and assistant) put into the prompt, newest kept first.</summary>
    public int MaxHistoryMessages { get; init; } = 6;

    /// <summary>Sentences an extractive answer quotes at most.</summary>
    public int MaxExtractiveSentences { get; init; } = 2;

    /// <summary>Ask the generator to rewrite follow-up questions; false (or no generator) uses the heuristic.</summary>
    public bool CondenseWithModel { get; init; } = true;

    public bool HasLocal => !string.IsNullOrWhiteSpace(LocalModelDirectory);
    public bool HasRemote => !string.IsNullOrWhiteSpace(RemoteBaseUrl);

    /// <summary>Throws a clear error for settings that contradict each other or are out of range.</summary>
    public void Validate()
    {
        if (HasLocal && HasRemote)
            throw new ArgumentException("Configure either a local generator model directory or a remote generator URL, not both.");
        if (HasRemote && string.IsNullOrWhiteSpace(RemoteModel))
            throw new ArgumentException("A remote generator needs a model name (RemoteModel) as its server knows it.");
        if (MaxNewTokens < 1) throw new ArgumentOutOfRangeException(nameof(MaxNewTokens), MaxNewTokens, "MaxNewTokens must be at least 1.");
        if (Temperature < 0) throw new ArgumentOutOfRangeException(nameof(Temperature), Temperature, "Temperature must not be negative.");
        if (TopP is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(TopP), TopP, "TopP must be in (0, 1].");
        if (TopK < 0) throw new ArgumentOutOfRangeException(nameof(TopK), TopK, "TopK must not be negative.");
        if (RemoteContextTokens <= MaxNewTokens)
            throw new ArgumentOutOfRangeException(nameof(RemoteContextTokens), RemoteContextTokens, "RemoteContextTokens must exceed MaxNewTokens.");
        if (MaxHistoryMessages < 0) throw new ArgumentOutOfRangeException(nameof(MaxHistoryMessages), MaxHistoryMessages, "MaxHistoryMessages must not be negative.");
        if (MaxExtractiveSentences < 1) throw new ArgumentOutOfRangeException(nameof(MaxExtractiveSentences), MaxExtractiveSentences, "MaxExtractiveSentences must be at least 1.");
    }
}
