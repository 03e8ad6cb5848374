using Rag.Storage.Postgres;
using Rag.Storage.Sqlite;

namespace Rag.Storage;

/// <summary>Which store the service runs on. Bindable from configuration ("Storage" section).</summary>
public sealed class StorageOptions
{
    /// <summary>"sqlite" (embedded, the default) or "postgres".</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>The data folder: SQLite's rag.db, and the uploaded originals under blobs/ for both providers.</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>PostgreSQL only, e.g. "Host=db;Username=rag;Password=...;Database=rag".</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Where originals are kept; default &lt;DataDirectory&gt;/blobs. Share it between processes in server mode.</summary>
    public string? BlobDirectory { get; set; }
}

public static class RagStores
{
    public static Task<IRagStore> OpenAsync(StorageOptions options, CancellationToken ct = default) => OpenAsync(options, TimeProvider.System, ct);

    /// <summary>Opens (and migrates) the configured store; bad configuration fails here with one clear message.</summary>
    public static async Task<IRagStore> OpenAsync(StorageOptions options, TimeProvider time, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        switch (options.Provider.Trim().ToLowerInvariant())
        {
            case "sqlite":
                if (options.BlobDirectory is not null)
                    throw new NotSupportedException("The SQLite store keeps originals under <DataDirectory>/blobs; BlobDirectory applies to postgres only.");
                return await SqliteRagStore.OpenAsync(options.DataDirectory, time, ct);
            case "postgres" or "postgresql":
                if (string.IsNullOrWhiteSpace(options.ConnectionString))
                    throw new ArgumentException("Storage provider 'postgres' needs a ConnectionString.", nameof(options));
                return await PostgresRagStore.OpenAsync(options.ConnectionString,
                    options.BlobDirectory ?? Path.Combine(options.DataDirectory, "blobs"), time, ct);
            default:
                throw new ArgumentException($"Unknown storage provider '{options.Provider}': use 'sqlite' or 'postgres'.", nameof(options));
        }
    }
}
