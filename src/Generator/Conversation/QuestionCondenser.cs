using Microsoft.Extensions.AI;
using Rag.Generator.Extractive;

namespace Rag.Generator.Conversation;

/// <summary>
/// Makes a follow-up question standalone before retrieval ("when was it built?" after "tell me about the
/// Eiffel Tower" should search for the tower). With a chat client it asks the model to rewrite the question;
/// without one, or when the model's rewrite shares no content word with the conversation, a deterministic
/// heuristic appends the earlier user questions' content words to a follow-up that leans on them.
/// </summary>
public sealed class QuestionCondenser(IChatClient? chatClient = null, int maxHistoryMessages = 6)
{
    public const string Instructions =
        "Rewrite the user's last question so that it can be understood without the conversation. " +
        "Replace pronouns with what they refer to. Reply with the rewritten question only.";

    // A follow-up with this few content words almost always leans on the topic before it ("and in 1990?").
    const int ShortQuestionWords = 2;

    public async Task<string> CondenseAsync(string question, IReadOnlyList<ChatTurn> history, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        if (!history.Any(t => t.Role == ChatRole.User)) return question;
        if (chatClient is not null)
        {
            var rewrite = await AskModelAsync(question, history, ct).ConfigureAwait(false);
            if (rewrite is not null) return rewrite;
        }
        return Heuristic(question, history);
    }

    /// <summary>
    /// A follow-up that uses an anaphoric word (it, they, this, there...) or has at most two content words
    /// gets the content words of the last user question appended, and of the one before that too when the
    /// last one was itself such a follow-up. Words already in the follow-up are not repeated.
    /// </summary>
    public static string Heuristic(string question, IReadOnlyList<ChatTurn> history)
    {
        if (!IsDependent(question)) return question;
        var have = TextAnalysis.ContentWords(question).ToHashSet(StringComparer.Ordinal);
        var added = new List<string>();
        foreach (var turn in history.Reverse().Where(t => t.Role == ChatRole.User))
        {
            var words = TextAnalysis.ContentWordsAsWritten(turn.Content);
            foreach (var w in words)
                if (have.Add(TextAnalysis.Fold(w))) added.Add(w);
            if (!IsDependent(turn.Content)) break;
        }
        return added.Count == 0 ? question : question.TrimEnd() + " " + string.Join(' ', added);
    }

    static bool IsDependent(string question) =>
        TextAnalysis.HasAnaphora(question) || TextAnalysis.ContentWords(question).Distinct().Count() <= ShortQuestionWords;

    async Task<string?> AskModelAsync(string question, IReadOnlyList<ChatTurn> history, CancellationToken ct)
    {
        var conversation = string.Join('\n', history.TakeLast(maxHistoryMessages)
            .Where(t => t.Role == ChatRole.User || t.Role == ChatRole.Assistant)
            .Select(t => (t.Role == ChatRole.User ? "User: " : "Assistant: ") + OneLine(t.Content)));
        ChatMessage[] messages =
        [
            new(ChatRole.System, Instructions),
            new(ChatRole.User, $"Conversation:\n{conversation}\n\nLast question: {question.Trim()}\n\nStandalone question:"),
        ];
        var response = await chatClient!.GetResponseAsync(messages, new ChatOptions { MaxOutputTokens = 64, Temperature = 0f }, ct).ConfigureAwait(false);
        var rewrite = Clean(response.Text);
        if (rewrite is null) return null;

        // A rewrite that mentions nothing from the conversation or the question is not a rewrite of them.
        var known = history.Select(t => t.Content).Append(question).SelectMany(TextAnalysis.ContentWords).ToHashSet(StringComparer.Ordinal);
        return TextAnalysis.ContentWords(rewrite).Any(known.Contains) ? rewrite : null;
    }

    static string? Clean(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
        if (line is null) return null;
        foreach (var prefix in new[] { "Standalone question:", "Question:", "Rewritten question:" })
            if (line.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) line = line[prefix.Length..].Trim();
        line = line.Trim('"', '“', '”', '\'', ' ');
        return line.Length is 0 or > 500 ? null : line;
    }

    static string OneLine(string text)
    {
        var s = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return s.Length <= 400 ? s : s[..400] + " …";
    }
}
