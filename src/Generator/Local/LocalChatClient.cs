using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Rag.Generator.Prompting;
using Rag.Neural;
using Rag.Neural.Generation;

namespace Rag.Generator.Local;

/// <summary>
/// An in-process decoder (src/Neural) behind <see cref="IChatClient"/>: messages are rendered with the
/// model's chat template, generated text streams back piece by piece. One generation runs at a time,
/// because a model owns one set of activation buffers and KV cache; other callers wait their turn.
/// </summary>
public sealed class LocalChatClient : IChatClient
{
    readonly ITextGeneratorModel model;
    readonly GenerationOptions defaults;
    readonly SemaphoreSlim gate = new(1, 1);
    readonly bool ownsModel;

    /// <param name="model">The decoder and its tokenizer.</param>
    /// <param name="template">Null: chosen from the model's architecture.</param>
    /// <param name="defaults">Decoding settings for whatever a request's ChatOptions leave unset.</param>
    /// <param name="ownsModel">Dispose the model with this client.</param>
    public LocalChatClient(ITextGeneratorModel model, ChatTemplate? template = null, GenerationOptions? defaults = null, bool ownsModel = false)
    {
        this.model = model;
        Template = template ?? ChatTemplate.ForArchitecture(model.Architecture);
        this.defaults = defaults ?? new GenerationOptions();
        this.ownsModel = ownsModel;
        Metadata = new ChatClientMetadata("rag-local", null, model.Architecture);
    }

    public ChatTemplate Template { get; }

    public ChatClientMetadata Metadata { get; }

    public int ContextLength => model.ContextLength;

    public Rag.Tokenizers.ITokenizer Tokenizer => model.Tokenizer;

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken).ConfigureAwait(false);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var prompt = Template.Render(messages);
        var promptTokens = CountPromptTokens(prompt);
        if (promptTokens >= model.ContextLength)
            throw new ArgumentException(
                $"The prompt is {promptTokens} tokens and the model's context is {model.ContextLength}: nothing is left to generate.", nameof(messages));
        var generation = ToGenerationOptions(options, model.ContextLength - promptTokens);

        var responseId = Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow;
        var pieces = 0;
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await foreach (var piece in model.GenerateAsync(prompt, generation, cancellationToken).ConfigureAwait(false))
            {
                if (piece.Length == 0) continue;
                pieces++;
                yield return new ChatResponseUpdate(ChatRole.Assistant, piece)
                {
                    ResponseId = responseId,
                    MessageId = responseId,
                    CreatedAt = created,
                    ModelId = Metadata.DefaultModelId,
                };
            }
        }
        finally
        {
            gate.Release();
        }

        // The model streams one piece per token, fewer where a piece waited for the rest of a UTF-8 character or
        // a possible stop string (re-encoding the text would not do: random or partial text re-encodes longer).
        var outputTokens = Math.Min(pieces, generation.MaxNewTokens);
        yield return new ChatResponseUpdate
        {
            Role = ChatRole.Assistant,
            ResponseId = responseId,
            MessageId = responseId,
            CreatedAt = created,
            ModelId = Metadata.DefaultModelId,
            // Stop strings and EOS end a reply early; otherwise it ran out of tokens.
            FinishReason = outputTokens >= generation.MaxNewTokens ? ChatFinishReason.Length : ChatFinishReason.Stop,
            Contents = [new UsageContent(new UsageDetails { InputTokenCount = promptTokens, OutputTokenCount = outputTokens, TotalTokenCount = promptTokens + outputTokens })],
        };
    }

    /// <summary>
    /// ChatOptions to the decoder's settings. MaxOutputTokens is clamped to what the context has left;
    /// stop sequences add to the template's own. "repetition_penalty" may be passed in AdditionalProperties.
    /// </summary>
    public GenerationOptions ToGenerationOptions(ChatOptions? options, int tokensLeft)
    {
        var o = options;
        var stops = Template.StopStrings.Concat(o?.StopSequences ?? []).Distinct(StringComparer.Ordinal).ToArray();
        var repetition = o?.AdditionalProperties?.TryGetValue("repetition_penalty", out float rp) == true ? rp : defaults.RepetitionPenalty;
        return defaults with
        {
            MaxNewTokens = Math.Max(1, Math.Min(o?.MaxOutputTokens ?? defaults.MaxNewTokens, tokensLeft)),
            Temperature = o?.Temperature ?? defaults.Temperature,
            TopP = o?.TopP ?? defaults.TopP,
            TopK = o?.TopK ?? defaults.TopK,
            // ChatOptions' seed is 64-bit; fold both halves in so distinct seeds stay distinct where they can.
            Seed = o?.Seed is { } seed ? (int)(seed ^ (seed >> 32)) : defaults.Seed,
            RepetitionPenalty = repetition,
            StopStrings = stops,
        };
    }

    /// <summary>Tokens the model will see for this prompt: template specials count one each, as the model encodes them.</summary>
    public int CountPromptTokens(string prompt) =>
        model is TextGenerator generator ? generator.EncodePrompt(prompt).Length : model.Tokenizer.CountTokens(prompt);

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? Metadata
        : serviceType.IsInstanceOfType(this) ? this
        : serviceType.IsInstanceOfType(model) ? model
        : null;

    public void Dispose()
    {
        gate.Dispose();
        if (ownsModel) model.Dispose();
    }
}
