using Rag.Generator;
using Rag.Retriever;

namespace Rag.Chat;

/// <summary>
/// One question. With ConversationId the stored turns are the history; with History (the
/// OpenAI-compatible endpoint, which is stateless) the caller supplies them; with neither a new
/// conversation starts.
/// </summary>
public sealed record ChatRequest(
    string Question,
    string? ConversationId = null,
    IReadOnlyList<ChatTurn>? History = null,
    int K = 5,
    RetrievalMode Mode = RetrievalMode.Hybrid,
    IReadOnlyList<string>? DocumentIds = null,
    IReadOnlyList<string>? Tags = null,
    bool Remember = true);

public sealed record ChatTimings(double RetrievalMs, double GenerationMs, double TotalMs, int GeneratedTokens);

/// <summary>
/// The final word on a question: the answer, the citations that survived checking, how it was made
/// (Mode: generated or extractive; RetrievalMode: hybrid, dense or bm25) and any notices to show.
/// </summary>
public sealed record ChatResult(
    string Answer,
    IReadOnlyList<Citation> Citations,
    string? ConversationId,
    AnswerMode Mode,
    RetrievalMode RetrievalMode,
    IReadOnlyList<string> Notices,
    string StandaloneQuestion,
    IReadOnlyList<Passage> Passages,
    ChatTimings Timings);

/// <summary>What the chat streams: text pieces as they are generated, then one Completed.</summary>
public abstract record ChatEvent;

public sealed record ChatToken(string Text) : ChatEvent;

public sealed record ChatCompleted(ChatResult Result) : ChatEvent;

/// <summary>The conversation named in a request does not exist in the caller's tenant.</summary>
public sealed class ConversationNotFoundException(string id) : Exception($"No conversation '{id}' in this tenant.");
