using Npgsql;
using Xunit;

namespace Rag.Testing;

/// <summary>A fresh PostgreSQL database per test class (dropped afterwards); absent RAG_TEST_POSTGRES, tests skip with that reason.</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    public const string Variable = "RAG_TEST_POSTGRES";
    public static readonly string? AdminConnectionString = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v : null;
    public static readonly string SkipReason = $"skipped: {Variable} is not set (e.g. \"Host=127.0.0.1;Username=rag;Password=rag;Database=postgres\")";

    readonly string _name = "rag_test_" + Guid.NewGuid().ToString("N");

    /// <summary>The class's database; null when PostgreSQL tests are skipped.</summary>
    public string? ConnectionString { get; private set; }

    public async Task InitializeAsync()
    {
        if (AdminConnectionString is null) return;
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE DATABASE {_name}", admin)) await create.ExecuteNonQueryAsync();
        ConnectionString = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = _name }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (ConnectionString is null) return;
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>A schema of its own inside the class database, so tests of one class never see each other's rows.</summary>
    public async Task<string> NewSchemaAsync()
    {
        Skip.If(ConnectionString is null, SkipReason);
        var schema = "t_" + Guid.NewGuid().ToString("N");
        await using var c = new NpgsqlConnection(ConnectionString);
        await c.OpenAsync();
        await using (var create = new NpgsqlCommand($"CREATE SCHEMA {schema}", c)) await create.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(ConnectionString) { SearchPath = schema }.ConnectionString;
    }
}
