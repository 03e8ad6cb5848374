using System.Text;
using Npgsql;
using Rag.Storage.Postgres;
using Rag.Storage.Sqlite;
using Rag.Testing;

namespace Rag.Storage.Tests;

/// <summary>Where one test's stores live. Each test gets its own storage; OpenAsync twice gives two handles on it (two "processes").</summary>
public interface IStoreBackend : IAsyncDisposable
{
    Task<IRagStore> OpenAsync(TimeProvider time);

    /// <summary>Everything persisted about API keys, as text: proves what is (and is not) stored at rest.</summary>
    Task<string> DumpApiKeysAsync();
}

public sealed class SqliteTestBackend : IStoreBackend
{
    readonly TempDir _dir = new();
    readonly List<IRagStore> _opened = [];

    public string DataDirectory => _dir.Path;

    public async Task<IRagStore> OpenAsync(TimeProvider time)
    {
        var store = await SqliteRagStore.OpenAsync(_dir.Path, time);
        _opened.Add(store);
        return store;
    }

    // The raw database and WAL bytes: if the plaintext were stored anywhere, it would be in here.
    public Task<string> DumpApiKeysAsync()
    {
        var text = new StringBuilder();
        foreach (var file in Directory.GetFiles(_dir.Path, "rag.db*"))
        {
            using var s = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var m = new MemoryStream();
            s.CopyTo(m);
            text.Append(Encoding.Latin1.GetString(m.ToArray()));
        }
        return Task.FromResult(text.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _opened) await store.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>PostgreSQL, with originals in the database (server mode's default) or, with fileBlobs, in a folder.</summary>
public sealed class PostgresTestBackend(PostgresDatabase database, bool fileBlobs = false) : IStoreBackend
{
    readonly TempDir _blobs = new();
    readonly List<IRagStore> _opened = [];
    string? _connectionString;

    public async Task<string> ConnectionStringAsync() => _connectionString ??= await database.NewSchemaAsync();

    public async Task<IRagStore> OpenAsync(TimeProvider time)
    {
        var store = await PostgresRagStore.OpenAsync(await ConnectionStringAsync(), fileBlobs ? _blobs.Path : null, time);
        _opened.Add(store);
        return store;
    }

    public async Task<string> DumpApiKeysAsync()
    {
        await using var c = new NpgsqlConnection(await ConnectionStringAsync());
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT coalesce(string_agg(row_to_json(k)::text, E'\\n'), '') FROM api_keys k", c);
        return (string)(await cmd.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _opened) await store.DisposeAsync();
        _blobs.Dispose();
    }
}
