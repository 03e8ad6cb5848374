using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Data.Sqlite;
using Rag.Storage.Sql;

namespace Rag.Storage.Sqlite;

/// <summary>
/// The embedded store: &lt;data&gt;/rag.db (WAL, foreign keys, busy timeout) and the originals under &lt;data&gt;/blobs.
/// Several stores (or processes) may open the same folder: SQLite serialises writers.
/// </summary>
public sealed class SqliteRagStore : SqlRagStore
{
    SqliteRagStore(SqliteBackend backend, string dataDirectory) : base(backend, new FileBlobStore(Path.Combine(dataDirectory, "blobs")))
    {
        DataDirectory = dataDirectory;
        DatabasePath = backend.Path;
    }

    public string DataDirectory { get; }
    public string DatabasePath { get; }

    public static Task<SqliteRagStore> OpenAsync(string dataDirectory, CancellationToken ct = default) =>
        OpenAsync(dataDirectory, TimeProvider.System, ct);

    /// <summary>Creates the folder and database if needed and applies pending migrations.</summary>
    public static async Task<SqliteRagStore> OpenAsync(string dataDirectory, TimeProvider time, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(dataDirectory);
        ArgumentNullException.ThrowIfNull(time);
        var folder = Path.GetFullPath(dataDirectory);
        var backend = new SqliteBackend(Path.Combine(folder, "rag.db"), time);
        try
        {
            Directory.CreateDirectory(folder);
            await using (var c = await backend.OpenConnectionAsync(ct))
            await using (var wal = backend.Command(c, "PRAGMA journal_mode = WAL", null))
                await wal.ExecuteNonQueryAsync(ct); // persistent in the file: readers never block the writer
            await Migrator.ApplyAsync(backend, ct);
        }
        catch (Exception e) when (e is SqliteException or IOException or UnauthorizedAccessException)
        {
            await backend.DisposeAsync();
            throw new StorageUnavailableException($"Cannot open {backend.Description}: {Reason(e)}", e);
        }
        catch
        {
            await backend.DisposeAsync();
            throw;
        }
        return new SqliteRagStore(backend, folder);
    }
}

internal sealed class SqliteBackend(string path, TimeProvider time) : SqlBackend(time)
{
    // One signal per database file, so every store opened on it in this process wakes its workers.
    static readonly ConcurrentDictionary<string, WorkSignal> Signals = new(StringComparer.Ordinal);
    static readonly IReadOnlyList<Migration> Scripts = Migration.Load("sqlite");
    const int BusyTimeoutMs = 30_000;

    readonly string _connectionString = new SqliteConnectionStringBuilder
    {
        DataSource = path,
        Mode = SqliteOpenMode.ReadWriteCreate,
        ForeignKeys = true,
        Pooling = true,
        DefaultTimeout = BusyTimeoutMs / 1000,
    }.ToString();

    public string Path { get; } = path;
    public override string Description => $"SQLite database {Path}";
    public override IReadOnlyList<Migration> Migrations => Scripts;
    public override string LeaseLockClause => ""; // one writer at a time: the UPDATE is already exclusive
    public override WorkSignal WorkSignal { get; } = Signals.GetOrAdd(path, _ => new WorkSignal());

    public override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct)
    {
        var c = new SqliteConnection(_connectionString);
        try
        {
            await c.OpenAsync(ct);
            // Wait for a competing writer (another store or process) instead of failing with SQLITE_BUSY.
            await using var busy = c.CreateCommand();
            busy.CommandText = $"PRAGMA busy_timeout = {BusyTimeoutMs}";
            await busy.ExecuteNonQueryAsync(ct);
            return c;
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
    }

    public override object TimeValue(DateTimeOffset t) => t.ToUnixTimeMilliseconds();

    // BEGIN IMMEDIATE (Microsoft.Data.Sqlite's default) takes the write lock up front: a second starter waits, then sees the new version.
    public override async Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken ct) =>
        await connection.BeginTransactionAsync(ct);

    public override bool IsUniqueViolation(DbException e) =>
        e is SqliteException { SqliteExtendedErrorCode: 2067 or 1555 }; // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open; release them so the folder can be moved or deleted.
        using var c = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(c);
        return ValueTask.CompletedTask;
    }
}
