using Microsoft.Extensions.AI;

namespace Rag.Generator;

/// <summary>
/// A retrieved chunk as the generator sees it. Number is its 1-based position in the prompt, the n the
/// model cites as [n]; StartChar/EndChar are the chunk's UTF-16 offsets in its document's extracted text.
/// </summary>
public sealed record Passage(
    int Number,
    string DocumentId,
    string ChunkId,
    string DocumentTitle,
    string Text,
    int StartChar,
    int EndChar,
    int? Page = null,
    string? HeadingPath = null,
    string? PageLabel = null); // "p. 7", "slide 7": how the page is named to the model and the reader

/// <summary>A passage the answer cites, with the sentence of it that best supports the citing sentence.</summary>
public sealed record Citation(
    int Number,
    string DocumentId,
    string ChunkId,
    string DocumentTitle,
    int StartChar,
    int EndChar,
    int? Page,
    string Snippet,
    string? PageLabel = null);

/// <summary>One earlier message of a conversation (user or assistant).</summary>
public sealed record ChatTurn(ChatRole Role, string Content)
{
    public static ChatTurn User(string content) => new(ChatRole.User, content);
    public static ChatTurn Assistant(string content) => new(ChatRole.Assistant, content);
}

public enum AnswerMode
{
    /// <summary>Written by a language model (local or remote) from the numbered passages.</summary>
    Generated,

    /// <summary>No generator: the best-supported sentences of the passages, quoted as they are.</summary>
    Extractive,
}

/// <summary>What <see cref="GroundedAnswerer.AnswerAsync"/> streams: text pieces, then one <see cref="AnswerCompleted"/>.</summary>
public abstract record AnswerUpdate;

/// <summary>A piece of the answer text, in order; concatenated they are the answer.</summary>
public sealed record AnswerToken(string Text) : AnswerUpdate;

/// <summary>
/// The last update. Citations are distinct, in order of first mention; DroppedCitations are numbers the
/// answer cited that were not among the passages shown to the model. TokenCount counts generated tokens
/// (0 for extractive answers). Notice says, in words, anything the reader should know about how the
/// answer was made (extractive mode, nothing retrieved).
/// </summary>
public sealed record AnswerCompleted(
    string Answer,
    IReadOnlyList<Citation> Citations,
    IReadOnlyList<int> DroppedCitations,
    AnswerMode Mode,
    int TokenCount,
    TimeSpan GenerationTime,
    string? Notice) : AnswerUpdate;
