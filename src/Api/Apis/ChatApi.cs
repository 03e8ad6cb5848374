using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Rag.Api.Hosting;
using Rag.Chat;
using Rag.Generator;
using Rag.Retriever;

namespace Rag.Api.Apis;

public sealed record ChatApiRequest(
    string? Question, string? ConversationId, int? K, RetrievalMode? Mode,
    IReadOnlyList<string>? DocumentIds, IReadOnlyList<string>? Tags, bool Stream = false);

public sealed record CitationDto(
    int Number, string DocumentId, string DocumentTitle, string ChunkId, int StartChar, int EndChar, int? Page, string Snippet, string? PageLabel);

public sealed record ChatApiResponse(
    string Answer, IReadOnlyList<CitationDto> Citations, string? ConversationId, string Mode, string RetrievalMode,
    IReadOnlyList<string> Notices, string StandaloneQuestion, ChatTimings Timings)
{
    public static ChatApiResponse From(ChatResult r) => new(
        r.Answer,
        r.Citations.Select(c => new CitationDto(c.Number, c.DocumentId, c.DocumentTitle, c.ChunkId, c.StartChar, c.EndChar, c.Page, c.Snippet, c.PageLabel)).ToList(),
        r.ConversationId,
        r.Mode.ToString().ToLowerInvariant(),
        r.RetrievalMode.ToString().ToLowerInvariant(),
        r.Notices,
        r.StandaloneQuestion,
        r.Timings);
}

public static class ChatApi
{
    public static void MapChatApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1").WithTags("Chat").RequireAuthorization();
        api.MapPost("/chat", Chat).Produces<ChatApiResponse>().Produces(200, contentType: "text/event-stream").ProducesProblem(400).ProducesProblem(404);
        api.MapGet("/conversations", Conversations);
        api.MapGet("/conversations/{id}", Conversation);
    }

    /// <summary>JSON by default; with stream true, server-sent events: `token` events, then one `done` event.</summary>
    static async Task<IResult> Chat(ChatApiRequest? request, HttpContext http, ChatService chat, CancellationToken ct)
    {
        if (request is null || string.IsNullOrWhiteSpace(request.Question))
            throw new RequestProblemException(400, "Missing question", "The body needs a non-empty 'question'.");
        var ask = new ChatRequest(
            request.Question, request.ConversationId, History: null, SearchApi.ValidK(request.K, 5),
            request.Mode ?? RetrievalMode.Hybrid, request.DocumentIds, request.Tags);
        var events = chat.AskAsync(http.User.Tenant(), ask, ct);

        if (!request.Stream)
        {
            await foreach (var e in WithNotFound(events, ct))
                if (e is ChatCompleted done) return TypedResults.Ok(ChatApiResponse.From(done.Result));
            throw new InvalidOperationException("The chat ended without a result.");
        }

        // Errors before the first frame still become problem details; after it, an `error` event.
        await using var stream = WithNotFound(events, ct).GetAsyncEnumerator(ct);
        if (!await stream.MoveNextAsync()) throw new InvalidOperationException("The chat ended without a result.");
        var sse = ServerSentEvents.Start(http);
        try
        {
            do
            {
                switch (stream.Current)
                {
                    case ChatToken token: await sse.WriteAsync("token", new { text = token.Text }, ct); break;
                    case ChatCompleted done: await sse.WriteAsync("done", ChatApiResponse.From(done.Result), ct); break;
                }
            }
            while (await stream.MoveNextAsync());
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var (status, title) = ProblemMapping.Classify(e);
            await sse.WriteAsync("error", new { status, title, detail = status < 500 ? e.Message : "The answer could not be completed." }, CancellationToken.None);
        }
        return TypedResults.Empty;
    }

    /// <summary>A conversation id from another tenant or a typo: 404, like any unknown id.</summary>
    static async IAsyncEnumerable<ChatEvent> WithNotFound(IAsyncEnumerable<ChatEvent> events, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using var e = events.GetAsyncEnumerator(ct);
        while (true)
        {
            try
            {
                if (!await e.MoveNextAsync()) yield break;
            }
            catch (ConversationNotFoundException nf)
            {
                throw new RequestProblemException(404, "Not found", nf.Message);
            }
            yield return e.Current;
        }
    }

    static async Task<Ok<IReadOnlyList<Storage.Conversation>>> Conversations(ClaimsPrincipal user, Storage.IRagStore store, CancellationToken ct) =>
        TypedResults.Ok(await store.Chats.ListConversationsAsync(user.Tenant(), 50, ct));

    static async Task<Results<Ok<IReadOnlyList<Storage.ChatMessageRecord>>, ProblemHttpResult>> Conversation(string id, ClaimsPrincipal user, Storage.IRagStore store, CancellationToken ct) =>
        await store.Chats.GetConversationAsync(user.Tenant(), id, ct) is null
            ? TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"No conversation '{id}' in this tenant.")
            : TypedResults.Ok(await store.Chats.GetMessagesAsync(user.Tenant(), id, ct));
}
