using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rag.Api.Hosting;

/// <summary>
/// Over-long request lines and headers. Kestrel refuses them itself, before any middleware runs, with an empty 414 or
/// 431 body. So Kestrel's own limits are raised to a ceiling and this service's limits (Kestrel's defaults) are
/// enforced here, where the refusal is problem details like every other one. Past the ceiling Kestrel still refuses,
/// bare: the ceiling bounds what one connection may make the server buffer.
/// </summary>
public static class ServerLimits
{
    /// <summary>Longest request target (path and query) the service serves: Kestrel's default request line.</summary>
    public const int MaxRequestTargetBytes = 8 * 1024;

    /// <summary>Most bytes of request headers: Kestrel's default.</summary>
    public const int MaxHeaderBytes = 32 * 1024;

    /// <summary>What Kestrel itself accepts, so that requests up to it get an explained refusal.</summary>
    public const int KestrelCeilingBytes = 2 * 1024 * 1024;

    public static void RaiseKestrelToCeiling(KestrelServerOptions kestrel)
    {
        kestrel.Limits.MaxRequestLineSize = KestrelCeilingBytes;
        kestrel.Limits.MaxRequestHeadersTotalSize = KestrelCeilingBytes;
        // Kestrel requires its buffer to hold a whole request line and header block.
        if (kestrel.Limits.MaxRequestBufferSize is { } buffer && buffer < KestrelCeilingBytes)
            kestrel.Limits.MaxRequestBufferSize = KestrelCeilingBytes;
    }

    /// <summary>414 or 431 problem details for a request over the service's limits; first in the pipeline.</summary>
    public static IApplicationBuilder UseServerLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (Refusal(context) is { } refusal)
        {
            context.Response.StatusCode = refusal.Status;
            await Results.Problem(statusCode: refusal.Status, title: refusal.Title, detail: refusal.Detail).ExecuteAsync(context);
            return;
        }
        await next(context);
    });

    static (int Status, string Title, string Detail)? Refusal(HttpContext context)
    {
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? (context.Request.Path + context.Request.QueryString).ToString();
        if (target.Length > MaxRequestTargetBytes)
            return (StatusCodes.Status414UriTooLong, "URI too long",
                $"The request target is {target.Length:N0} bytes; at most {MaxRequestTargetBytes:N0} are accepted. " +
                "Send long values (a title, a query) in the request body instead.");

        long headerBytes = 0;
        foreach (var (name, values) in context.Request.Headers)
            foreach (var value in values)
                headerBytes += name.Length + (value?.Length ?? 0) + 4; // "name: value\r\n"
        if (headerBytes > MaxHeaderBytes)
            return (StatusCodes.Status431RequestHeaderFieldsTooLarge, "Request header fields too large",
                $"The request headers total {headerBytes:N0} bytes; at most {MaxHeaderBytes:N0} are accepted.");
        return null;
    }
}
