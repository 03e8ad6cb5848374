using Rag.Storage.Sqlite;
using Rag.Testing;

namespace Rag.Storage.Tests;

public sealed class RagStoresTests
{
    [Fact]
    public async Task The_default_options_open_the_embedded_store_in_the_data_folder()
    {
        using var dir = new TempDir();
        await using var store = await RagStores.OpenAsync(new StorageOptions { DataDirectory = dir.Path });
        Assert.IsType<SqliteRagStore>(store);
        Assert.True(File.Exists(Path.Combine(dir.Path, "rag.db")));
    }

    [Fact]
    public async Task Bad_options_are_refused_with_a_message_that_says_what_to_set()
    {
        var unknown = await Assert.ThrowsAsync<ArgumentException>(() => RagStores.OpenAsync(new StorageOptions { Provider = "mysql" }));
        Assert.Contains("'sqlite' or 'postgres'", unknown.Message);
        var noConnection = await Assert.ThrowsAsync<ArgumentException>(() => RagStores.OpenAsync(new StorageOptions { Provider = "postgres" }));
        Assert.Contains("ConnectionString", noConnection.Message);
    }

    [Fact]
    public void Back_off_doubles_per_attempt_with_bounded_jitter_and_a_cap()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), Backoff.After(1, 0));
        Assert.Equal(TimeSpan.FromSeconds(8), Backoff.After(3, 0));
        Assert.Equal(TimeSpan.FromSeconds(8 * 1.1), Backoff.After(3, 0.5));
        Assert.Equal(Backoff.Cap, Backoff.After(30, 0));
    }
}
