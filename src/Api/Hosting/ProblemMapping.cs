using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Rag.Ingest;

namespace Rag.Api.Hosting;

/// <summary>
/// Turns the exceptions a bad request can cause into RFC 9457 problem details, so a client never
/// sees a bare 500 for its own mistake. Anything unmapped stays a 500 with no internals leaked.
/// </summary>
public sealed class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        var (status, title) = Classify(exception);
        if (status >= 500) logger.LogError(exception, "Request {Path} failed", context.Request.Path);
        if (context.Response.HasStarted) return true; // a stream already began: nothing more can be said
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = status,
                Title = title,
                Detail = status < 500 || status == 503 ? Describe(exception) : "An unexpected error occurred; see the server log.",
            },
        });
    }

    /// <summary>The message, with the JSON reader's reason when binding a body failed (the outer message names only the parameter).</summary>
    static string Describe(Exception exception) =>
        exception is BadHttpRequestException { InnerException: JsonException json }
            ? $"{exception.Message} {json.Message}"
            : exception.Message;

    public static (int Status, string Title) Classify(Exception exception) => exception switch
    {
        RequestProblemException p => (p.Status, p.Title),
        IngestRejectedException { Reason: IngestRejectReason.TooLarge } => (413, "Payload too large"),
        IngestRejectedException { Reason: IngestRejectReason.UnsupportedType } => (415, "Unsupported media type"),
        IngestRejectedException { Reason: IngestRejectReason.Empty } => (400, "Empty document"),
        IngestRejectedException => (400, "Unreadable document"),
        BadHttpRequestException { StatusCode: 413 } => (413, "Payload too large"),
        BadHttpRequestException b => (b.StatusCode, "Bad request"),
        JsonException => (400, "Invalid JSON"),
        // ASP.NET's form reader reports an over-long multipart body this way.
        InvalidDataException e when e.Message.Contains("length limit", StringComparison.OrdinalIgnoreCase) => (413, "Payload too large"),
        InvalidDataException => (400, "Malformed request body"),
        _ when IsOutage(exception) => (503, "Service unavailable"),
        _ => (500, "Internal server error"),
    };

    /// <summary>
    /// A dependency is down, here or further down the chain: ours say so, and a database error the provider calls
    /// transient (a connection broken by a server restart, a server shutting down) will pass once the database is back.
    /// </summary>
    static bool IsOutage(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
            if (e is ServiceUnavailableException or Rag.Storage.StorageUnavailableException or System.Data.Common.DbException { IsTransient: true })
                return true;
        return false;
    }
}

/// <summary>A request the caller must change: carries its HTTP status and a title for the problem details.</summary>
public sealed class RequestProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;
}

/// <summary>A dependency (database, vector store, model) is down: 503, never a hang.</summary>
public sealed class ServiceUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
