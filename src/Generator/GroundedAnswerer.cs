using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.AI;
using Rag.Generator.Citations;
using Rag.Generator.Conversation;
using Rag.Generator.Extractive;
using Rag.Generator.Local;
using Rag.Generator.Prompting;
using Rag.Tokenizers;

namespace Rag.Generator;

/// <summary>
/// Answers a question from retrieved passages: a generated answer that cites them as [n] (through any
/// <see cref="IChatClient"/>, local or remote), or without a generator an extractive one. Either way the
/// text streams first and one <see cref="AnswerCompleted"/> follows with the citations mapped back to
/// documents, chunks and offsets. With no passages it says the documents hold nothing relevant.
/// </summary>
public sealed class GroundedAnswerer
{
    public const string NothingRelevantText = "I found nothing in the documents that is relevant to this question.";
    public const string NothingRetrievedNotice = "No passage was retrieved for this question, so there was nothing to answer from.";
    public const string ExtractiveNotice = "Extractive answer: no generator is configured, so these sentences are quoted from the passages as they are.";

    // Template tokens, and the slack between counting parts and counting the rendered prompt.
    const int PromptMargin = 32;

    readonly IChatClient? chatClient;
    readonly GeneratorOptions options;
    readonly PromptBuilder promptBuilder;
    readonly ExtractiveAnswerer extractive;
    readonly QuestionCondenser condenser;
    readonly int contextTokens;

    /// <param name="chatClient">The generator; null only with <see cref="AnswerMode.Extractive"/>.</param>
    /// <param name="mode">Generated needs a chat client; Extractive ignores it for answers.</param>
    /// <param name="options">Decoding and prompt settings.</param>
    /// <param name="tokenizer">Counts prompt tokens; null uses the local model's, or an estimate for a remote one.</param>
    /// <param name="sentenceSimilarity">The dual encoder, for ranking extractive sentences with the lexical evidence; null: lexical only.</param>
    public GroundedAnswerer(IChatClient? chatClient, AnswerMode mode, GeneratorOptions options, ITokenizer? tokenizer,
        SentenceSimilarity? sentenceSimilarity = null)
    {
        options.Validate();
        if (mode == AnswerMode.Generated && chatClient is null)
            throw new ArgumentException("Generated answers need a chat client; use AnswerMode.Extractive when no generator is configured.", nameof(chatClient));
        this.chatClient = chatClient;
        this.options = options;
        Mode = mode;

        var local = chatClient?.GetService<LocalChatClient>();
        contextTokens = local?.ContextLength ?? options.RemoteContextTokens;
        promptBuilder = new PromptBuilder(tokenizer ?? local?.Tokenizer, options.MaxHistoryMessages);
        extractive = new ExtractiveAnswerer(options.MaxExtractiveSentences, similarity: sentenceSimilarity);
        condenser = new QuestionCondenser(options.CondenseWithModel ? chatClient : null, options.MaxHistoryMessages);
    }

    public AnswerMode Mode { get; }

    /// <summary>The follow-up question made standalone, for retrieval; the question itself when there is no history.</summary>
    public Task<string> CondenseQuestionAsync(string question, IReadOnlyList<ChatTurn> history, CancellationToken ct = default) =>
        condenser.CondenseAsync(question, history, ct);

    /// <summary>Text pieces as they are produced, then one <see cref="AnswerCompleted"/>.</summary>
    /// <param name="passages">Ranked, numbered 1..n as the prompt will show them.</param>
    /// <param name="history">Earlier turns of the conversation, oldest first; empty for a new one.</param>
    public async IAsyncEnumerable<AnswerUpdate> AnswerAsync(
        string question, IReadOnlyList<Passage> passages, IReadOnlyList<ChatTurn> history, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        CheckNumbers(passages);
        ct.ThrowIfCancellationRequested();
        using var activity = GeneratorTelemetry.Source.StartActivity("generate");
        var clock = Stopwatch.StartNew();

        if (passages.Count == 0)
        {
            yield return new AnswerToken(NothingRelevantText);
            yield return Completed(new AnswerCompleted(NothingRelevantText, [], [], Mode, 0, clock.Elapsed, NothingRetrievedNotice));
            yield break;
        }

        if (Mode == AnswerMode.Extractive)
        {
            var answer = await extractive.AnswerAsync(question, passages, ct).ConfigureAwait(false);
            var found = CitationParser.Parse(answer.Text, passages);
            yield return new AnswerToken(answer.Text);
            yield return Completed(new AnswerCompleted(answer.Text, found.Citations, found.Dropped, Mode, 0, clock.Elapsed, ExtractiveNotice));
            yield break;
        }

        var maxNewTokens = Math.Min(options.MaxNewTokens, contextTokens / 2);
        var prompt = promptBuilder.Build(question, passages, history, contextTokens - maxNewTokens - PromptMargin);
        var chatOptions = new ChatOptions
        {
            MaxOutputTokens = maxNewTokens,
            Temperature = options.Temperature,
            TopP = options.TopP,
            TopK = options.TopK > 0 ? options.TopK : null,
            Seed = options.Seed,
        };

        var citations = new CitationParser(prompt.Passages);
        var text = new StringBuilder();
        var pieces = 0;
        long? reportedTokens = null;
        await foreach (var update in chatClient!.GetStreamingResponseAsync(prompt.Messages, chatOptions, ct).ConfigureAwait(false))
        {
            foreach (var usage in update.Contents.OfType<UsageContent>())
                reportedTokens = usage.Details.OutputTokenCount ?? reportedTokens;
            var piece = update.Text;
            if (string.IsNullOrEmpty(piece)) continue;
            text.Append(piece);
            citations.Append(piece);
            pieces++;
            yield return new AnswerToken(piece);
        }

        var result = citations.Complete();
        var tokens = (int)(reportedTokens ?? pieces);
        yield return Completed(new AnswerCompleted(text.ToString().Trim(), result.Citations, result.Dropped, Mode, tokens, clock.Elapsed, null));

        AnswerCompleted Completed(AnswerCompleted answer)
        {
            GeneratorTelemetry.Completed(activity, answer, passages.Count);
            return answer;
        }
    }

    /// <summary>The whole answer at once (for JSON responses and evaluation): drains <see cref="AnswerAsync"/>.</summary>
    public async Task<AnswerCompleted> AnswerCompleteAsync(
        string question, IReadOnlyList<Passage> passages, IReadOnlyList<ChatTurn> history, CancellationToken ct = default)
    {
        await foreach (var update in AnswerAsync(question, passages, history, ct).ConfigureAwait(false))
            if (update is AnswerCompleted done) return done;
        throw new InvalidOperationException("The answer stream ended without its final update.");
    }

    static void CheckNumbers(IReadOnlyList<Passage> passages)
    {
        var numbers = new HashSet<int>();
        foreach (var p in passages)
            if (p.Number < 1 || !numbers.Add(p.Number))
                throw new ArgumentException($"Passages must be numbered with distinct positive numbers; found {p.Number} twice or out of range.", nameof(passages));
    }
}
