namespace Rag.Storage;

/// <summary>Retry delay of the job queue: exponential, capped, with jitter so a burst of failures does not retry in lock-step.</summary>
internal static class Backoff
{
    public static readonly TimeSpan Cap = TimeSpan.FromMinutes(5);
    public const double MaxJitter = 0.2;

    /// <summary>Delay after the n-th failed attempt (n >= 1): min(2^n s, cap) * (1 + MaxJitter * u), u in [0, 1).</summary>
    public static TimeSpan After(int failedAttempts, double u)
    {
        var seconds = Math.Min(Math.Pow(2, failedAttempts), Cap.TotalSeconds);
        return TimeSpan.FromSeconds(seconds * (1 + MaxJitter * u));
    }

    public static TimeSpan After(int failedAttempts) => After(failedAttempts, Random.Shared.NextDouble());
}
