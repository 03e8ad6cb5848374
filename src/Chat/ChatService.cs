using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.AI;
using Rag.Generator;
using Rag.Generator.Conversation;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Chat;

/// <summary>
/// One turn of a grounded chat: make the question standalone, retrieve the tenant's passages,
/// stream the answer with citations, and remember the turn. The HTTP API, the OpenAI-compatible
/// endpoint and the CLI all go through here, so they answer alike.
/// </summary>
public sealed class ChatService(IRetriever retriever, GroundedAnswerer answerer, QuestionCondenser condenser, IRagStore store)
{
    static readonly JsonSerializerOptions CitationJson = new(JsonSerializerDefaults.Web);

    public async IAsyncEnumerable<ChatEvent> AskAsync(string tenantId, ChatRequest request, [EnumeratorCancellation] CancellationToken ct = default)
    {
        var total = Stopwatch.StartNew();
        var question = request.Question.Trim();
        var (conversationId, history) = await HistoryAsync(tenantId, request, ct);

        var standalone = history.Count == 0 ? question : await condenser.CondenseAsync(question, history, ct);
        var retrieval = await retriever.RetrieveAsync(
            new RetrievalRequest(standalone, new SearchFilter(tenantId, request.DocumentIds, request.Tags), request.K, request.Mode), ct);
        var passages = retrieval.Passages.Select((p, i) => new Passage(
            i + 1, p.Chunk.DocumentId, p.Chunk.Id, p.DocumentTitle, p.Chunk.Text,
            p.Chunk.StartChar, p.Chunk.EndChar, p.Chunk.Page, p.Chunk.HeadingPath, p.Chunk.PageLabel)).ToList();

        AnswerCompleted? final = null;
        await foreach (var update in answerer.AnswerAsync(question, passages, history, ct))
        {
            if (update is AnswerToken token) yield return new ChatToken(token.Text);
            else if (update is AnswerCompleted done) final = done;
        }
        if (final is null) throw new InvalidOperationException("The answerer ended without a final answer.");

        if (conversationId is not null)
        {
            await store.Chats.AppendMessageAsync(tenantId, conversationId, "user", question, null, ct);
            await store.Chats.AppendMessageAsync(tenantId, conversationId, "assistant", final.Answer,
                JsonSerializer.Serialize(final.Citations, CitationJson), ct);
        }

        string[] notices = [.. new[] { retrieval.Notice, final.Notice }.OfType<string>()];
        yield return new ChatCompleted(new ChatResult(
            final.Answer, final.Citations, conversationId, final.Mode, retrieval.Mode, notices, standalone, passages,
            new ChatTimings(retrieval.Elapsed.TotalMilliseconds, final.GenerationTime.TotalMilliseconds,
                total.Elapsed.TotalMilliseconds, final.TokenCount)));
    }

    /// <summary>The conversation to append to (null when not remembering) and the turns that came before.</summary>
    async Task<(string? Id, IReadOnlyList<ChatTurn> History)> HistoryAsync(string tenantId, ChatRequest request, CancellationToken ct)
    {
        if (request.History is not null) return (null, request.History);
        if (request.ConversationId is { } id)
        {
            if (await store.Chats.GetConversationAsync(tenantId, id, ct) is null) throw new ConversationNotFoundException(id);
            var messages = await store.Chats.GetMessagesAsync(tenantId, id, ct);
            return (id, messages.Select(m => new ChatTurn(new ChatRole(m.Role), m.Content)).ToList());
        }
        if (!request.Remember) return (null, []);
        var title = request.Question.Length <= 80 ? request.Question : request.Question[..80] + "…";
        return ((await store.Chats.CreateConversationAsync(tenantId, title, ct)).Id, []);
    }
}
