using System.Data.Common;
using System.Globalization;
using static Rag.Storage.Sql.Rows;

namespace Rag.Storage.Sql;

/// <summary>
/// The durable queue. A lease is one UPDATE of the oldest runnable row (queued and due, or leased with an
/// expired lease) chosen by a sub-select: SQLite runs it under its single-writer lock, PostgreSQL adds
/// FOR UPDATE SKIP LOCKED so concurrent workers pick different rows instead of queueing on one.
/// Every state change after a lease is conditional on the worker still holding it.
/// </summary>
internal sealed class SqlJobQueue(SqlBackend db) : IJobQueue
{
    public async Task<Job> EnqueueAsync(string kind, string payload, string? tenantId = null, int maxAttempts = 5, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        Job job;
        await using (var c = await db.OpenConnectionAsync(ct))
        {
            // One transaction: PostgreSQL delivers the NOTIFY at commit, so no worker wakes before the row is visible,
            // and a failed NOTIFY cannot leave a job behind that the caller will enqueue again.
            await using var tx = await c.BeginTransactionAsync(ct);
            job = await InsertAsync(db, c, tx, new NewJob(kind, payload, tenantId, maxAttempts), ct);
            await tx.CommitAsync(ct);
        }
        db.WorkSignal.Pulse();
        return job;
    }

    /// <summary>Inserts a queued job and its NOTIFY inside the caller's transaction; the caller pulses db.WorkSignal after committing.</summary>
    internal static async Task<Job> InsertAsync(SqlBackend db, DbConnection c, DbTransaction tx, NewJob request, CancellationToken ct)
    {
        ArgumentException.ThrowIfNullOrEmpty(request.Kind);
        ArgumentNullException.ThrowIfNull(request.Payload);
        ArgumentOutOfRangeException.ThrowIfLessThan(request.MaxAttempts, 1);
        var now = db.Now();
        var job = new Job(Ids.New(), request.Kind, request.Payload, request.TenantId, JobStatus.Queued, 0, request.MaxAttempts, null, null, now, null, now, now);
        await using (var insert = db.Command(c,
            $"INSERT INTO jobs ({JobColumns}) VALUES (@id, @kind, @payload, @tenant, 'queued', 0, @max, NULL, NULL, @now, NULL, @now, @now)", tx,
            ("@id", job.Id), ("@kind", job.Kind), ("@payload", job.Payload), ("@tenant", job.TenantId), ("@max", job.MaxAttempts), ("@now", now)))
            await insert.ExecuteNonQueryAsync(ct);
        await db.NotifyWorkAsync(c, tx, ct);
        return job;
    }

    /// <summary>
    /// An expired lease counts as a failed attempt (its worker is presumed dead): the job is taken over while
    /// attempts remain, and Failed otherwise, so a job that kills its worker every time cannot loop forever.
    /// </summary>
    public async Task<Job?> LeaseAsync(string workerId, TimeSpan leaseDuration, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(workerId);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(leaseDuration, TimeSpan.Zero);
        var now = db.Now();
        await using var c = await db.OpenConnectionAsync(ct);
        await using (var reap = db.Command(c, $"""
            UPDATE jobs SET status = 'failed', attempts = attempts + 1, lease_expires_at = NULL, updated_at = @now,
                error = {ExpiredLeaseError} || '; no attempts left'
            WHERE status = 'leased' AND lease_expires_at <= @now AND attempts + 1 >= max_attempts
            """, null, ("@now", now)))
            await reap.ExecuteNonQueryAsync(ct);

        // SET expressions see the row as it was: a takeover is recognised by its old status 'leased'.
        await using var lease = db.Command(c, $"""
            UPDATE jobs SET status = 'leased', lease_owner = @worker, lease_expires_at = @expires, updated_at = @now,
                attempts = attempts + CASE WHEN status = 'leased' THEN 1 ELSE 0 END,
                error = CASE WHEN status = 'leased' THEN {ExpiredLeaseError} ELSE error END
            WHERE id = (SELECT id FROM jobs
                        WHERE (status = 'queued' AND run_after <= @now) OR (status = 'leased' AND lease_expires_at <= @now)
                        ORDER BY run_after, created_at, id
                        LIMIT 1 {db.LeaseLockClause})
            RETURNING {JobColumns}
            """, null, ("@worker", workerId), ("@expires", now + leaseDuration), ("@now", now));
        return (await SqlBackend.ReadAllAsync(lease, ReadJob, ct)).FirstOrDefault();
    }

    const string ExpiredLeaseError = "'lease of ' || lease_owner || ' expired (worker presumed dead)'";

    public async Task<bool> RenewLeaseAsync(string jobId, string workerId, TimeSpan leaseDuration, CancellationToken ct = default)
    {
        var now = db.Now();
        return await db.ExecuteAsync(
            "UPDATE jobs SET lease_expires_at = @expires, updated_at = @now WHERE id = @id AND status = 'leased' AND lease_owner = @worker", ct,
            ("@expires", now + leaseDuration), ("@now", now), ("@id", jobId), ("@worker", workerId)) == 1;
    }

    /// <summary>
    /// True when this worker held the lease. A worker whose lease expired may still complete while no one
    /// else has taken the job over; once another worker leased it, the old worker gets false.
    /// </summary>
    public async Task<bool> CompleteAsync(string jobId, string workerId, CancellationToken ct = default) =>
        await db.ExecuteAsync(
            "UPDATE jobs SET status = 'done', lease_expires_at = NULL, error = NULL, updated_at = @now WHERE id = @id AND status = 'leased' AND lease_owner = @worker", ct,
            ("@now", db.Now()), ("@id", jobId), ("@worker", workerId)) == 1;

    public async Task<bool> ReleaseAsync(string jobId, string workerId, CancellationToken ct = default)
    {
        var now = db.Now();
        return await db.ExecuteAsync("""
            UPDATE jobs SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL, run_after = @now, updated_at = @now
            WHERE id = @id AND status = 'leased' AND lease_owner = @worker
            """, ct, ("@now", now), ("@id", jobId), ("@worker", workerId)) == 1;
    }

    /// <summary>
    /// Counts a failed attempt: queued again after Backoff.After(attempts), or Failed with the error once
    /// MaxAttempts is reached. Null when the job is unknown or the worker no longer holds its lease.
    /// </summary>
    public async Task<Job?> FailAsync(string jobId, string workerId, string error, CancellationToken ct = default)
    {
        var job = await GetAsync(jobId, ct);
        if (job is null || job.Status != JobStatus.Leased || job.LeaseOwner != workerId) return null;
        var attempts = job.Attempts + 1;
        var failed = attempts >= job.MaxAttempts;
        var now = db.Now();
        // Conditional on the state just read, so a takeover between the read and the write wins.
        return await db.QuerySingleAsync($"""
            UPDATE jobs SET status = @status, attempts = @attempts, error = @error, run_after = @runAfter,
                lease_owner = @owner, lease_expires_at = NULL, updated_at = @now
            WHERE id = @id AND status = 'leased' AND lease_owner = @worker AND attempts = @seen
            RETURNING {JobColumns}
            """, ReadJob, ct,
            ("@status", Name(failed ? JobStatus.Failed : JobStatus.Queued)), ("@attempts", attempts), ("@error", error),
            ("@runAfter", failed ? now : now + Backoff.After(attempts)), ("@owner", failed ? workerId : null), ("@now", now),
            ("@id", jobId), ("@worker", workerId), ("@seen", job.Attempts));
    }

    public Task<Job?> GetAsync(string jobId, CancellationToken ct = default) =>
        db.QuerySingleAsync($"SELECT {JobColumns} FROM jobs WHERE id = @id", ReadJob, ct, ("@id", jobId));

    public async Task<IReadOnlyDictionary<JobStatus, int>> CountByStatusAsync(CancellationToken ct = default)
    {
        var counts = Enum.GetValues<JobStatus>().ToDictionary(s => s, _ => 0);
        foreach (var (status, n) in await db.QueryAsync("SELECT status, count(*) FROM jobs GROUP BY status",
            r => (Enum.Parse<JobStatus>(r.GetString(0), ignoreCase: true), Convert.ToInt32(r.GetValue(1), CultureInfo.InvariantCulture)), ct))
            counts[status] = n;
        return counts;
    }

    public async Task WaitForWorkAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        await db.EnsureListeningAsync(ct);
        await db.WorkSignal.WaitAsync(timeout, ct);
    }
}
