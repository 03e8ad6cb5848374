using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.AI;
using Rag.Tokenizers;

namespace Rag.Generator.Prompting;

/// <summary>The messages to send, and the passages that made it into them (the only ones a citation may name).</summary>
public sealed record BuiltPrompt(IReadOnlyList<ChatMessage> Messages, IReadOnlyList<Passage> Passages, int EstimatedTokens);

/// <summary>
/// Lays out a grounded prompt: system instructions, the most recent conversation turns, then one user
/// message with the numbered passages and the question. Fits a token budget by keeping passages in rank
/// order (the last one that fits partly is cut at a word), and giving history at most a quarter of it.
/// </summary>
public sealed partial class PromptBuilder(ITokenizer? tokenizer = null, int maxHistoryMessages = 6)
{
    public const string Instructions =
        "You answer questions using only the numbered passages you are given. " +
        "Cite the passages that support each statement as [1], [2] and so on. " +
        "If the passages do not contain the answer, say that you don't know; do not use outside knowledge.";

    // Role markers and separators each message costs beyond its text, in tokens (ChatML spends 5).
    const int MessageOverhead = 6;
    // A passage cut shorter than this says too little to be worth its header.
    const int MinPassageTokens = 24;

    /// <summary>Tokens in a text: the model's tokenizer when there is one, else about four characters a token.</summary>
    public int CountTokens(string text) => tokenizer?.CountTokens(text) ?? (text.Length + 3) / 4;

    public BuiltPrompt Build(string question, IReadOnlyList<Passage> passages, IReadOnlyList<ChatTurn> history, int tokenBudget)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(question);
        var questionBlock = "Question: " + question.Trim();
        var fixedCost = CountTokens(Instructions) + CountTokens("Passages:\n\n") + CountTokens(questionBlock) + 2 * MessageOverhead;
        if (fixedCost > tokenBudget)
            throw new ArgumentException(
                $"The question is too long: with the instructions it needs {fixedCost} tokens and the model's prompt budget is {tokenBudget}.",
                nameof(question));

        var turns = FitHistory(history, (tokenBudget - fixedCost) / 4, out var historyCost);
        var (included, passagesText, passagesCost) = FitPassages(passages, tokenBudget - fixedCost - historyCost);

        var user = included.Count == 0 ? questionBlock : "Passages:\n\n" + passagesText + "\n\n" + questionBlock;
        var messages = new List<ChatMessage>(turns.Count + 2) { new(ChatRole.System, Instructions) };
        messages.AddRange(turns);
        messages.Add(new ChatMessage(ChatRole.User, user));
        return new BuiltPrompt(messages, included, fixedCost + historyCost + passagesCost);
    }

    /// <summary>"[n] Title — heading (p. 7)" (or "(slide 7)") then the text.</summary>
    public static string FormatPassage(Passage p, string? text = null)
    {
        var sb = new StringBuilder().Append('[').Append(p.Number).Append("] ").Append(p.DocumentTitle);
        if (!string.IsNullOrWhiteSpace(p.HeadingPath)) sb.Append(" — ").Append(p.HeadingPath);
        if (p.Page is { } page) sb.Append(" (").Append(p.PageLabel ?? $"page {page}").Append(')');
        return sb.Append('\n').Append((text ?? p.Text).Trim()).ToString();
    }

    List<ChatMessage> FitHistory(IReadOnlyList<ChatTurn> history, int budget, out int cost)
    {
        var kept = new List<ChatMessage>();
        cost = 0;
        // Newest first, so the turns the follow-up leans on are the last to go.
        for (var i = history.Count - 1; i >= 0 && kept.Count < maxHistoryMessages; i--)
        {
            var turn = history[i];
            if (turn.Role != ChatRole.User && turn.Role != ChatRole.Assistant) continue;
            // Earlier answers cite earlier passages: their [n] would point at the wrong passage now.
            var text = turn.Role == ChatRole.Assistant ? CitationMarker().Replace(turn.Content, "").Trim() : "Question: " + turn.Content.Trim();
            var c = CountTokens(text) + MessageOverhead;
            if (cost + c > budget) break;
            kept.Add(new ChatMessage(turn.Role, text));
            cost += c;
        }
        // A reply without its question reads as noise: start on a user turn.
        while (kept.Count > 0 && kept[^1].Role != ChatRole.User) { cost -= CountTokens(kept[^1].Text) + MessageOverhead; kept.RemoveAt(kept.Count - 1); }
        kept.Reverse();
        return kept;
    }

    (List<Passage> Included, string Text, int Cost) FitPassages(IReadOnlyList<Passage> passages, int budget)
    {
        var included = new List<Passage>();
        var sb = new StringBuilder();
        var cost = 0;
        foreach (var p in passages)
        {
            var block = FormatPassage(p);
            var c = CountTokens(block) + 1;
            if (cost + c <= budget)
            {
                if (sb.Length > 0) sb.Append("\n\n");
                sb.Append(block);
                included.Add(p);
                cost += c;
                continue;
            }
            var room = budget - cost;
            if (room >= MinPassageTokens && Truncate(p, room - 1) is { } cut)
            {
                if (sb.Length > 0) sb.Append("\n\n");
                sb.Append(cut);
                included.Add(p);
                cost += CountTokens(cut) + 1;
            }
            break;
        }
        return (included, sb.ToString(), cost);
    }

    /// <summary>The passage cut at a word so that its block fits in tokens; null when not even a word fits.</summary>
    string? Truncate(Passage p, int tokens)
    {
        var text = p.Text.Trim();
        int lo = 0, hi = text.Length;   // invariant: a prefix of length lo fits; hi is the least known not to
        while (hi - lo > 1)
        {
            var mid = (lo + hi) / 2;
            if (CountTokens(FormatPassage(p, text[..mid] + " …")) <= tokens) lo = mid; else hi = mid;
        }
        var cut = text.LastIndexOf(' ', Math.Min(lo, text.Length - 1));
        if (cut <= 0) return null;
        return FormatPassage(p, text[..cut].TrimEnd() + " …");
    }

    [GeneratedRegex(@"\s*\[\s*[0-9]+(?:\s*[-–,;]\s*[0-9]+)*\s*\]")]
    private static partial Regex CitationMarker();
}
