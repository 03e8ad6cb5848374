using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Rag.Storage.Postgres;
using Rag.Testing;

namespace Rag.Storage.Tests;

// The shared contract, run against PostgreSQL (each class in its own database; skipped without RAG_TEST_POSTGRES).
public sealed class PostgresTenantTests(PostgresDatabase db) : TenantContract(new PostgresTestBackend(db)), IClassFixture<PostgresDatabase>;
public sealed class PostgresDocumentTests(PostgresDatabase db) : DocumentContract(new PostgresTestBackend(db)), IClassFixture<PostgresDatabase>;
public sealed class PostgresChunkTests(PostgresDatabase db) : ChunkContract(new PostgresTestBackend(db)), IClassFixture<PostgresDatabase>;
public sealed class PostgresChatTests(PostgresDatabase db) : ChatContract(new PostgresTestBackend(db)), IClassFixture<PostgresDatabase>;
public sealed class PostgresEvalRunTests(PostgresDatabase db) : EvalRunContract(new PostgresTestBackend(db)), IClassFixture<PostgresDatabase>;
[Collection(BlobMemoryCollection.Name)]
public sealed class PostgresBlobTests(PostgresDatabase db) : BlobContract(new PostgresTestBackend(db)), IClassFixture<PostgresDatabase>;
[Collection(BlobMemoryCollection.Name)]
public sealed class PostgresFileBlobTests(PostgresDatabase db) : BlobContract(new PostgresTestBackend(db, fileBlobs: true)), IClassFixture<PostgresDatabase>;
public sealed class PostgresJobQueueTests(PostgresDatabase db) : JobQueueContract(new PostgresTestBackend(db)), IClassFixture<PostgresDatabase>;
public sealed class PostgresQueueContentionTests(PostgresDatabase db) : QueueContentionContract(new PostgresTestBackend(db)), IClassFixture<PostgresDatabase>;

/// <summary>What only the server store has: concurrent migration under the advisory lock, and bad configuration failing fast.</summary>
public sealed class PostgresStoreTests(PostgresDatabase db) : IClassFixture<PostgresDatabase>, IDisposable
{
    readonly TempDir _blobs = new();

    [SkippableFact]
    public async Task Processes_starting_at_once_migrate_the_database_once()
    {
        var cs = await db.NewSchemaAsync();
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PostgresRagStore.OpenAsync(cs, _blobs.Path))));
        await stores[0].Tenants.CreateTenantAsync("x");
        Assert.Single(await stores[3].Tenants.ListTenantsAsync());
        await stores[1].CheckHealthAsync();
        foreach (var s in stores) await s.DisposeAsync();

        await using var c = new NpgsqlConnection(cs);
        await c.OpenAsync();
        // Each migration recorded exactly once, however many processes raced to apply it.
        var scripts = typeof(PostgresRagStore).Assembly.GetManifestResourceNames().Count(n => n.StartsWith("migrations/postgres/", StringComparison.Ordinal));
        await using var count = new NpgsqlCommand("SELECT count(*), count(DISTINCT version) FROM schema_version", c);
        await using var r = await count.ExecuteReaderAsync();
        await r.ReadAsync();
        Assert.Equal(scripts, r.GetInt64(0));
        Assert.Equal(scripts, r.GetInt64(1));
    }

    [SkippableFact]
    public async Task A_wrong_password_fails_at_open_with_a_clear_message()
    {
        Skip.If(PostgresDatabase.AdminConnectionString is null, PostgresDatabase.SkipReason);
        var wrong = new NpgsqlConnectionStringBuilder(PostgresDatabase.AdminConnectionString) { Password = "definitely-wrong" }.ConnectionString;

        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => PostgresRagStore.OpenAsync(wrong, _blobs.Path));
        Assert.Contains("password authentication failed", e.Message);
    }

    [SkippableFact]
    public async Task Health_check_reports_a_database_that_went_away()
    {
        Skip.If(PostgresDatabase.AdminConnectionString is null, PostgresDatabase.SkipReason);
        var name = "rag_gone_" + Guid.NewGuid().ToString("N");
        await AdminAsync($"CREATE DATABASE {name}");
        var cs = new NpgsqlConnectionStringBuilder(PostgresDatabase.AdminConnectionString) { Database = name }.ConnectionString;
        await using var store = await PostgresRagStore.OpenAsync(cs, _blobs.Path);
        await store.CheckHealthAsync();

        await AdminAsync($"DROP DATABASE {name} WITH (FORCE)");

        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.CheckHealthAsync());
        Assert.Contains(name, e.Message);
    }

    [Fact]
    public async Task A_closed_port_fails_at_open_within_seconds_naming_the_server()
    {
        var closed = "Host=127.0.0.1;Port=1;Username=rag;Password=rag;Database=rag";
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60)); // a hang fails the test instead of blocking CI
        var clock = Stopwatch.StartNew();

        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => PostgresRagStore.OpenAsync(closed, _blobs.Path, guard.Token));
        Assert.Contains("127.0.0.1:1", e.Message);
        Assert.False(guard.IsCancellationRequested, $"gave up only after {clock.Elapsed}");
    }

    [Fact]
    public async Task A_server_that_accepts_but_never_answers_fails_at_open_instead_of_hanging()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // the kernel completes the TCP handshake; nobody ever reads or writes
        var port = ((IPEndPoint)silent.LocalEndpoint).Port;
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(60));

        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() =>
            PostgresRagStore.OpenAsync($"Host=127.0.0.1;Port={port};Username=rag;Password=rag;Database=rag;Timeout=1", _blobs.Path, guard.Token));
        Assert.Contains($"127.0.0.1:{port}", e.Message);
        Assert.False(guard.IsCancellationRequested);
    }

    [Fact]
    public async Task An_unreachable_host_gives_up_after_the_connect_timeout()
    {
        // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never routed, so the connect attempt can only time out (or be refused at once).
        var unreachable = "Host=192.0.2.1;Username=rag;Password=rag;Database=rag;Timeout=1";
        var e = await Assert.ThrowsAsync<StorageUnavailableException>(() => PostgresRagStore.OpenAsync(unreachable, _blobs.Path));
        Assert.Contains("192.0.2.1", e.Message);
    }

    static async Task AdminAsync(string sql)
    {
        await using var c = new NpgsqlConnection(PostgresDatabase.AdminConnectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }

    public void Dispose() => _blobs.Dispose();
}
