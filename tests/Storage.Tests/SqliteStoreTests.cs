using Microsoft.Data.Sqlite;
using Rag.Storage.Sqlite;
using Rag.Testing;

namespace Rag.Storage.Tests;

// The shared contract, run against SQLite.
public sealed class SqliteTenantTests() : TenantContract(new SqliteTestBackend());
public sealed class SqliteDocumentTests() : DocumentContract(new SqliteTestBackend());
public sealed class SqliteChunkTests() : ChunkContract(new SqliteTestBackend());
public sealed class SqliteChatTests() : ChatContract(new SqliteTestBackend());
public sealed class SqliteEvalRunTests() : EvalRunContract(new SqliteTestBackend());
[Collection(BlobMemoryCollection.Name)]
public sealed class SqliteBlobTests() : BlobContract(new SqliteTestBackend());
public sealed class SqliteJobQueueTests() : JobQueueContract(new SqliteTestBackend());
public sealed class SqliteQueueContentionTests() : QueueContentionContract(new SqliteTestBackend());

/// <summary>What only the embedded store has: its file layout, WAL mode and migrations on reopen.</summary>
public sealed class SqliteStoreTests
{
    [Fact]
    public async Task Open_creates_the_folder_a_WAL_database_and_keeps_data_across_reopen()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "nested", "data");
        string tenantId;
        await using (var store = await SqliteRagStore.OpenAsync(data))
        {
            tenantId = (await store.Tenants.CreateTenantAsync("acme")).Id;
            await store.Blobs.SaveAsync(tenantId, "doc1", new MemoryStream([1, 2]));
            await store.CheckHealthAsync();
            Assert.Equal(Path.Combine(data, "rag.db"), store.DatabasePath);
        }
        Assert.True(File.Exists(Path.Combine(data, "blobs", tenantId, "doc1")));

        await using (var reopened = await SqliteRagStore.OpenAsync(data))
            Assert.Equal("acme", (await reopened.Tenants.GetTenantAsync(tenantId))?.Name);

        await using var c = new SqliteConnection($"Data Source={Path.Combine(data, "rag.db")};Pooling=False");
        await c.OpenAsync();
        Assert.Equal("wal", await ScalarAsync(c, "PRAGMA journal_mode"));
        var scripts = typeof(SqliteRagStore).Assembly.GetManifestResourceNames().Count(n => n.StartsWith("migrations/sqlite/", StringComparison.Ordinal));
        Assert.Equal((long)scripts, await ScalarAsync(c, "SELECT count(*) FROM schema_version")); // each applied once, not again on reopen
    }

    [Fact]
    public async Task Stores_opening_one_new_folder_at_once_migrate_it_once()
    {
        using var dir = new TempDir();
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => SqliteRagStore.OpenAsync(dir.Path))));
        await stores[0].Tenants.CreateTenantAsync("x");
        Assert.Single(await stores[3].Tenants.ListTenantsAsync());
        foreach (var s in stores) await s.DisposeAsync();
    }

    [Fact]
    public async Task A_data_folder_that_cannot_be_created_is_a_clear_error()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "a-file");
        await File.WriteAllTextAsync(file, "not a folder");

        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => SqliteRagStore.OpenAsync(Path.Combine(file, "data")));
        Assert.Contains("rag.db", e.Message);
    }

    static async Task<object?> ScalarAsync(SqliteConnection c, string sql)
    {
        await using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return await cmd.ExecuteScalarAsync();
    }
}
