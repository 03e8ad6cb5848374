using System.Net;
using System.Threading.RateLimiting;
using Rag.Hosting;

namespace Rag.Api.Hosting;

/// <summary>
/// Guessing API keys: after <see cref="LimitSettings.FailedAuthPerMinute"/> failed authentications from one client
/// address in a minute, every further attempt from it is refused (429) until the minute ends, valid key or not, so
/// a guesser learns nothing more. Idle addresses are dropped by the limiter itself.
/// </summary>
public sealed class FailedAuthThrottle(LimitSettings limits) : IDisposable
{
    readonly PartitionedRateLimiter<string> failures = PartitionedRateLimiter.Create<string, string>(address =>
        limits.FailedAuthPerMinute <= 0
            ? RateLimitPartition.GetNoLimiter(address)
            : RateLimitPartition.GetFixedWindowLimiter(address, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = limits.FailedAuthPerMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
            }));

    public int LimitPerMinute => limits.FailedAuthPerMinute;

    public static string AddressOf(HttpContext context) => context.Connection.RemoteIpAddress is { } ip
        ? (ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip).ToString()
        : IPAddress.None.ToString();

    /// <summary>How long this address must wait, or null when it may try a key. Asks for no permit, so it spends none.</summary>
    public TimeSpan? Refused(string address)
    {
        using var probe = failures.AttemptAcquire(address, permitCount: 0);
        if (probe.IsAcquired) return null;
        return probe.TryGetMetadata(MetadataName.RetryAfter, out var retry) ? retry : TimeSpan.FromMinutes(1);
    }

    public void RecordFailure(string address)
    {
        using var _ = failures.AttemptAcquire(address);
    }

    public void Dispose() => failures.Dispose();
}
