using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Rag.Neural;
using Rag.Tokenizers;

namespace Rag.Generator.Tests;

/// <summary>One token per white-space separated word: enough to test budgets by counting words.</summary>
sealed class WordTokenizer : ITokenizer
{
    public int VocabularySize => 1000;
    public int[] Encode(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => w.Length).ToArray();
    public string Decode(ReadOnlySpan<int> ids) => throw new NotSupportedException("WordTokenizer only counts.");
    public int CountTokens(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
}

/// <summary>
/// A deterministic decoder: replies with the given pieces, stopping at a stop string or after MaxNewTokens
/// pieces, as a real model would. Records every prompt and options it was given.
/// </summary>
sealed class ScriptedModel(string architecture, params string[] reply) : ITextGeneratorModel
{
    public List<string> Prompts { get; } = [];
    public List<GenerationOptions> Options { get; } = [];
    public int Running;
    public int MaxRunning;
    public bool Disposed { get; private set; }
    /// <summary>Awaited before every piece, so a test can hold a generation mid-way.</summary>
    public Func<Task>? BeforePiece { get; set; }

    public string Architecture => architecture;
    public ITokenizer Tokenizer { get; } = new WordTokenizer();
    public int ContextLength { get; init; } = 512;

    public async IAsyncEnumerable<string> GenerateAsync(string prompt, GenerationOptions options, [EnumeratorCancellation] CancellationToken ct = default)
    {
        Prompts.Add(prompt);
        Options.Add(options);
        MaxRunning = Math.Max(MaxRunning, Interlocked.Increment(ref Running));
        try
        {
            var text = "";
            for (var i = 0; i < reply.Length && i < options.MaxNewTokens; i++)
            {
                ct.ThrowIfCancellationRequested();
                if (BeforePiece is not null) await BeforePiece();
                await Task.Yield();
                text += reply[i];
                var stop = options.StopStrings.Select(s => (s, at: text.IndexOf(s, StringComparison.Ordinal))).FirstOrDefault(x => x.at >= 0);
                if (stop.s is not null)
                {
                    var keep = reply[i].Length - (text.Length - stop.at);
                    if (keep > 0) yield return reply[i][..keep];
                    yield break;
                }
                yield return reply[i];
            }
        }
        finally
        {
            Interlocked.Decrement(ref Running);
        }
    }

    public void Dispose() => Disposed = true;
}

/// <summary>A chat client that answers every request with fixed text, streamed in the given pieces.</summary>
sealed class CannedChatClient(params string[] pieces) : IChatClient
{
    public List<List<ChatMessage>> Requests { get; } = [];

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        await GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        Requests.Add(messages.ToList());
        foreach (var p in pieces)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, p);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;
    public void Dispose() { }
}

static class Passages
{
    public static Passage Make(int number, string text, string title = "Doc", string? doc = null, int start = 0) =>
        new(number, doc ?? $"doc{number}", $"{doc ?? $"doc{number}"}:0", title, text, start, start + text.Length);

    public static readonly Passage[] Eiffel =
    [
        Make(1, "The Eiffel Tower is a wrought-iron lattice tower in Paris. It was designed by the company of Gustave Eiffel. Construction finished in 1889.", "Eiffel Tower", "eiffel", 100),
        Make(2, "Paris is the capital of France. It has about two million inhabitants.", "Paris", "paris", 0),
        Make(3, "The Statue of Liberty was a gift from France to the United States. It was dedicated in 1886.", "Statue of Liberty", "liberty", 40),
    ];
}
