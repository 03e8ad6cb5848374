namespace Rag.Storage.Tests;

/// <summary>A clock the test moves by hand, so lease expiry and back-off are tested without sleeping.</summary>
public sealed class ManualClock : TimeProvider
{
    long _ticks = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero).UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
