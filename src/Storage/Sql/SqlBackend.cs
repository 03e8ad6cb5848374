using System.Data.Common;
using System.Globalization;
using System.Text;

namespace Rag.Storage.Sql;

/// <summary>
/// One SQL engine as the shared stores see it: how to open a connection, how a timestamp is stored,
/// and the few things whose SQL or mechanism differs (row locking, migration lock, wake-ups).
/// Every query of the stores is otherwise the same text on SQLite and PostgreSQL.
/// </summary>
internal abstract class SqlBackend(TimeProvider time) : IAsyncDisposable
{
    public TimeProvider Time { get; } = time;

    /// <summary>Values per IN list: well under SQLite's (32,766) and PostgreSQL's (65,535) parameter limits.</summary>
    public const int IdsPerQuery = 500;

    /// <summary>For messages: which database, e.g. "SQLite database /data/rag.db".</summary>
    public abstract string Description { get; }

    /// <summary>The migration scripts of this engine's dialect, in version order.</summary>
    public abstract IReadOnlyList<Migration> Migrations { get; }

    /// <summary>Appended to the lease query's inner SELECT: "FOR UPDATE SKIP LOCKED" where rows can be locked, empty on SQLite (one writer at a time).</summary>
    public abstract string LeaseLockClause { get; }

    /// <summary>Pulsed on enqueue in this process (and, on PostgreSQL, by NOTIFY from other processes).</summary>
    public abstract WorkSignal WorkSignal { get; }

    public abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken ct);

    /// <summary>How a timestamp is stored: SQLite has no time type (unix milliseconds), PostgreSQL has timestamptz.</summary>
    public abstract object TimeValue(DateTimeOffset t);

    /// <summary>Begins the one transaction that applies migrations, holding the lock that keeps concurrent starters out.</summary>
    public abstract Task<DbTransaction> BeginMigrationAsync(DbConnection connection, CancellationToken ct);

    public abstract bool IsUniqueViolation(DbException e);

    /// <summary>Tells other processes that work was enqueued (PostgreSQL NOTIFY); nothing to do on SQLite.</summary>
    public virtual Task NotifyWorkAsync(DbConnection connection, DbTransaction tx, CancellationToken ct) => Task.CompletedTask;

    /// <summary>Makes sure cross-process wake-ups are being received before a worker waits.</summary>
    public virtual Task EnsureListeningAsync(CancellationToken ct) => Task.CompletedTask;

    public virtual ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Now, at millisecond precision, so a stored time reads back equal on every engine.</summary>
    public DateTimeOffset Now() => DateTimeOffset.FromUnixTimeMilliseconds(Time.GetUtcNow().ToUnixTimeMilliseconds());

    public DbCommand Command(DbConnection connection, string sql, DbTransaction? tx, params (string Name, object? Value)[] args)
    {
        var cmd = connection.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = tx;
        foreach (var (name, value) in args)
        {
            var p = cmd.CreateParameter();
            p.ParameterName = name;
            p.Value = ToDb(value);
            cmd.Parameters.Add(p);
        }
        return cmd;
    }

    public object ToDb(object? value) => value switch
    {
        null => DBNull.Value,
        DateTimeOffset t => TimeValue(t),
        _ => value,
    };

    public async Task<int> ExecuteAsync(string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var c = await OpenConnectionAsync(ct);
        await using var cmd = Command(c, sql, null, args);
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task<object?> ScalarAsync(string sql, CancellationToken ct, params (string, object?)[] args)
    {
        await using var c = await OpenConnectionAsync(ct);
        await using var cmd = Command(c, sql, null, args);
        var value = await cmd.ExecuteScalarAsync(ct);
        return value is DBNull ? null : value;
    }

    public async Task<List<T>> QueryAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string, object?)[] args)
    {
        await using var c = await OpenConnectionAsync(ct);
        await using var cmd = Command(c, sql, null, args);
        return await ReadAllAsync(cmd, map, ct);
    }

    /// <summary>
    /// Rows of <paramref name="sqlWhere"/> (a SELECT ending in WHERE ... AND) whose <paramref name="column"/> is one of
    /// <paramref name="values"/>: one query per IdsPerQuery distinct values, each value its own parameter.
    /// Callers write the tenant test as <c>tenant_id || '' = @tenant</c>: without statistics SQLite otherwise walks the
    /// tenant index, reading every row of the tenant (3-4x slower on SQuAD's 2,067 chunks, and linear in tenant size)
    /// instead of probing the primary key once per id. The expression means the same on both engines.
    /// </summary>
    public async Task<List<T>> QueryInAsync<T>(string sqlWhere, string column, IEnumerable<string> values, Func<DbDataReader, T> map,
        CancellationToken ct, params (string, object?)[] args)
    {
        var rows = new List<T>();
        foreach (var batch in values.Distinct(StringComparer.Ordinal).Chunk(IdsPerQuery))
        {
            var sql = new StringBuilder(sqlWhere).Append(' ').Append(column).Append(" IN (");
            var all = new List<(string, object?)>(args.Length + batch.Length);
            all.AddRange(args);
            for (var i = 0; i < batch.Length; i++)
            {
                sql.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"@in{i}");
                all.Add(($"@in{i}", batch[i]));
            }
            rows.AddRange(await QueryAsync(sql.Append(')').ToString(), map, ct, [.. all]));
        }
        return rows;
    }

    public async Task<T?> QuerySingleAsync<T>(string sql, Func<DbDataReader, T> map, CancellationToken ct, params (string, object?)[] args) where T : class =>
        (await QueryAsync(sql, map, ct, args)).FirstOrDefault();

    public static async Task<List<T>> ReadAllAsync<T>(DbCommand cmd, Func<DbDataReader, T> map, CancellationToken ct)
    {
        var list = new List<T>();
        await using var r = await cmd.ExecuteReaderAsync(ct);
        while (await r.ReadAsync(ct)) list.Add(map(r));
        return list;
    }
}

internal sealed record Migration(int Version, string Name, string Sql)
{
    /// <summary>Migrations embedded as migrations/&lt;dialect&gt;/NNNN_name.sql, in version order.</summary>
    public static IReadOnlyList<Migration> Load(string dialect)
    {
        var assembly = typeof(Migration).Assembly;
        var prefix = $"migrations/{dialect}/";
        var list = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var name = resource[prefix.Length..^".sql".Length];
            var version = int.Parse(name.AsSpan(0, name.IndexOf('_')), System.Globalization.CultureInfo.InvariantCulture);
            using var reader = new StreamReader(assembly.GetManifestResourceStream(resource)!);
            list.Add(new Migration(version, name, reader.ReadToEnd()));
        }
        list.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < list.Count; i++)
            if (list[i].Version != i + 1) throw new InvalidOperationException($"Migrations of {dialect} must be numbered 1..n without gaps; found {list[i].Name}.");
        return list;
    }
}
