using System.Data.Common;
using Npgsql;
using Rag.Storage.Sql;

namespace Rag.Storage.Postgres;

/// <summary>
/// The server store: PostgreSQL through a pooled NpgsqlDataSource for rows and the job queue
/// (SKIP LOCKED leasing, LISTEN/NOTIFY wake-ups); originals in its blob tables (no shared folder), or in a
/// folder every process mounts when a blob directory is given.
/// </summary>
public sealed class PostgresRagStore : SqlRagStore
{
    /// <summary>Connect timeout used unless the connection string sets one: bad configuration should fail in seconds, not hang.</summary>
    public const int DefaultConnectTimeoutSeconds = 5;

    PostgresRagStore(PostgresBackend backend, string? blobDirectory)
        : base(backend, blobDirectory is null ? new PostgresBlobStore(backend.DataSource, backend.Description) : new FileBlobStore(blobDirectory)) =>
        DataSource = backend.DataSource;

    /// <summary>
    /// The store's connection pool, for the other tables of the same database (the BM25 index): one pool per process, which
    /// the store's listener clears when the server restarts.
    /// </summary>
    public NpgsqlDataSource DataSource { get; }

    public static Task<PostgresRagStore> OpenAsync(string connectionString, string? blobDirectory = null, CancellationToken ct = default) =>
        OpenAsync(connectionString, blobDirectory, TimeProvider.System, ct);

    /// <summary>
    /// Connects and applies pending migrations under an advisory lock; fails fast with StorageUnavailableException.
    /// Originals go to the database unless <paramref name="blobDirectory"/> names a folder for them.
    /// </summary>
    public static async Task<PostgresRagStore> OpenAsync(string connectionString, string? blobDirectory, TimeProvider time, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(connectionString);
        if (blobDirectory is not null) ArgumentException.ThrowIfNullOrEmpty(blobDirectory);
        ArgumentNullException.ThrowIfNull(time);
        var backend = new PostgresBackend(WithDefaults(connectionString), time);
        try
        {
            await Migrator.ApplyAsync(backend, ct);
        }
        catch (Exception e) when (e is not StorageUnavailableException && IsConnectionFailure(e))
        {
            await backend.DisposeAsync();
            throw new StorageUnavailableException($"Cannot use {backend.Description}: {Reason(e)}", e);
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
        // Listening from the start, in every process: besides waking workers, the listener notices a server restart.
        _ = backend.EnsureListeningAsync(CancellationToken.None);
        return new PostgresRagStore(backend, blobDirectory);
    }

    static string WithDefaults(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!given.ContainsKey("Timeout") && !given.ContainsKey("Connect Timeout") && !given.ContainsKey("Connection Timeout"))
            builder.Timeout = DefaultConnectTimeoutSeconds;
        return builder.ConnectionString;
    }
}

internal sealed class PostgresBackend : SqlBackend
{
    public const string Channel = "rag_jobs";
    static readonly IReadOnlyList<Migration> Scripts = Migration.Load("postgres");
    // Any fixed 64-bit number works; every process that migrates this schema must use the same one.
    const long MigrationLockKey = 0x7261675f6d696772; // "rag_migr"

    readonly NpgsqlDataSource _dataSource;
    readonly NotificationListener _listener;

    public NpgsqlDataSource DataSource => _dataSource;

    public PostgresBackend(string connectionString, TimeProvider time) : base(time)
    {
        _dataSource = NpgsqlDataSource.Create(connectionString);
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        Description = $"PostgreSQL database '{b.Database}' at {b.Host}:{b.Port} (user '{b.Username}')";
        _listener = new NotificationListener(_dataSource, Channel, WorkSignal);
    }

    public override string Description { get; }
    public override IReadOnlyList<Migration> Migrations => Scripts;
    public override string LeaseLockClause => "FOR UPDATE SKIP LOCKED";
    public override WorkSignal WorkSignal { get; } = new();

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct) => await OpenAsync(_dataSource, Description, ct);

    /// <summary>
    /// A pooled connection, or StorageUnavailableException naming the database when none can be opened (server down or
    /// restarting, network, refused login), so callers tell an outage (the Api's 503, a worker's retry) from a bug.
    /// </summary>
    internal static async ValueTask<NpgsqlConnection> OpenAsync(NpgsqlDataSource dataSource, string description, CancellationToken ct)
    {
        try
        {
            return await dataSource.OpenConnectionAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (e is not (NpgsqlException or TimeoutException or OperationCanceledException)) throw;
            throw new StorageUnavailableException($"{description} is unavailable: {SqlRagStore.Reason(e)}", e);
        }
    }

    // timestamptz wants UTC; stored values keep the milliseconds SqlBackend.Now() gives them.
    public override object TimeValue(DateTimeOffset t) => t.ToUniversalTime();

    // A transaction-scoped advisory lock: a second process starting at the same time waits here, then finds nothing left to apply.
    public override async Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken ct)
    {
        var tx = await connection.BeginTransactionAsync(ct);
        await using var lockCmd = Command(connection, "SELECT pg_advisory_xact_lock(@key)", tx, ("@key", MigrationLockKey));
        await lockCmd.ExecuteNonQueryAsync(ct);
        return tx;
    }

    public override bool IsUniqueViolation(DbException e) => e is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    public override async Task NotifyWorkAsync(DbConnection connection, DbTransaction tx, CancellationToken ct)
    {
        await using var notify = Command(connection, $"NOTIFY {Channel}", tx);
        await notify.ExecuteNonQueryAsync(ct);
    }

    public override Task EnsureListeningAsync(CancellationToken ct) => _listener.EnsureStartedAsync(ct);

    public override async ValueTask DisposeAsync()
    {
        await _listener.DisposeAsync();
        await _dataSource.DisposeAsync();
    }
}
