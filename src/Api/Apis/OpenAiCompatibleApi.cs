using System.Text.Json.Serialization;
using Rag.Api.Hosting;
using Rag.Chat;
using Rag.Generator;

namespace Rag.Api.Apis;

// The subset of OpenAI's chat completions schema that clients send; snake_case as OpenAI spells it.
public sealed record OpenAiMessage(string? Role, string? Content);

public sealed record OpenAiChatRequest(
    string? Model,
    IReadOnlyList<OpenAiMessage>? Messages,
    bool? Stream,
    [property: JsonPropertyName("max_tokens")] int? MaxTokens,
    double? Temperature);

/// <summary>
/// POST /v1/chat/completions: any OpenAI client can talk to the service. Retrieval runs on the
/// last user message; earlier messages are the conversation. Citations ride along in an extra
/// `citations` field that OpenAI clients ignore and RAG-aware ones can read.
/// </summary>
public static class OpenAiCompatibleApi
{
    public const string ModelName = "rag";

    public static void MapOpenAiCompatibleApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/chat/completions", Complete).WithTags("OpenAI compatible").RequireAuthorization().ProducesProblem(400);
        app.MapGet("/v1/models", () => TypedResults.Ok(new
        {
            @object = "list",
            data = new[] { new { id = ModelName, @object = "model", created = 0, owned_by = "rag" } },
        })).WithTags("OpenAI compatible").RequireAuthorization();
    }

    static async Task<IResult> Complete(OpenAiChatRequest? request, HttpContext http, ChatService chat, CancellationToken ct)
    {
        var messages = request?.Messages ?? throw new RequestProblemException(400, "Missing messages", "The body needs a 'messages' array.");
        var last = messages.LastOrDefault(m => m.Role == "user" && !string.IsNullOrWhiteSpace(m.Content))
            ?? throw new RequestProblemException(400, "No user message", "'messages' needs at least one non-empty user message.");
        var history = messages.TakeWhile(m => !ReferenceEquals(m, last))
            .Where(m => m.Role is "user" or "assistant" && !string.IsNullOrWhiteSpace(m.Content))
            .Select(m => new ChatTurn(new Microsoft.Extensions.AI.ChatRole(m.Role!), m.Content!)).ToList();

        var events = chat.AskAsync(http.User.Tenant(), new ChatRequest(last.Content!, History: history, Remember: false), ct);
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var model = request.Model ?? ModelName;

        if (request.Stream != true)
        {
            await foreach (var e in events.WithCancellation(ct))
                if (e is ChatCompleted { Result: var r })
                    return TypedResults.Json(new
                    {
                        id,
                        @object = "chat.completion",
                        created,
                        model,
                        choices = new[] { new { index = 0, message = new { role = "assistant", content = r.Answer }, finish_reason = "stop" } },
                        usage = new { prompt_tokens = 0, completion_tokens = r.Timings.GeneratedTokens, total_tokens = r.Timings.GeneratedTokens },
                        citations = ChatApiResponse.From(r).Citations,
                    });
            throw new InvalidOperationException("The chat ended without a result.");
        }

        var sse = ServerSentEvents.Start(http);
        object Chunk(object delta, string? finish) => new
        {
            id,
            @object = "chat.completion.chunk",
            created,
            model,
            choices = new[] { new { index = 0, delta, finish_reason = finish } },
        };
        await sse.WriteAsync(null, Chunk(new { role = "assistant", content = "" }, null), ct);
        await foreach (var e in events.WithCancellation(ct))
        {
            if (e is ChatToken t) await sse.WriteAsync(null, Chunk(new { content = t.Text }, null), ct);
            else if (e is ChatCompleted { Result: var r })
            {
                var final = new Dictionary<string, object?>
                {
                    ["id"] = id,
                    ["object"] = "chat.completion.chunk",
                    ["created"] = created,
                    ["model"] = model,
                    ["choices"] = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } },
                    ["citations"] = ChatApiResponse.From(r).Citations,
                };
                await sse.WriteAsync(null, final, ct);
            }
        }
        await sse.WriteRawAsync(null, "[DONE]", ct);
        return TypedResults.Empty;
    }
}
