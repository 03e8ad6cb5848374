using Rag.Storage.Postgres;
using Rag.Storage.Sqlite;

namespace Rag.Storage;

/// <summary>Which store the service runs on. Bindable from configuration ("Storage" section).</summary>
public sealed class StorageOptions
{
    /// <summary>"sqlite" (embedded, the default) or "postgres".</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>The data folder: SQLite's rag.db and the uploaded originals under blobs/ (postgres: with Blobs = "files" only).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>PostgreSQL only, e.g. "Host=db;Username=rag;Password=...;Database=rag".</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Where originals are kept: "database" (PostgreSQL's default: no folder to share between processes) or "files"
    /// (SQLite's only choice, and an option for postgres). Unset: the provider's default.
    /// </summary>
    public string? Blobs { get; set; }

    /// <summary>The folder of Blobs = "files"; default &lt;DataDirectory&gt;/blobs. Every process must mount it in server mode.</summary>
    public string? BlobDirectory { get; set; }
}

public static class RagStores
{
    public static Task<IRagStore> OpenAsync(StorageOptions options, CancellationToken ct = default) => OpenAsync(options, TimeProvider.System, ct);

    /// <summary>Opens (and migrates) the configured store; bad configuration fails here with one clear message.</summary>
    public static async Task<IRagStore> OpenAsync(StorageOptions options, TimeProvider time, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var blobs = options.Blobs?.Trim().ToLowerInvariant();
        if (blobs is not (null or "" or "database" or "files"))
            throw new ArgumentException($"Unknown blob store '{options.Blobs}': use 'database' or 'files'.", nameof(options));
        switch (options.Provider.Trim().ToLowerInvariant())
        {
            case "sqlite":
                if (options.BlobDirectory is not null || blobs is "database")
                    throw new NotSupportedException("The SQLite store keeps originals under <DataDirectory>/blobs; Blobs and BlobDirectory apply to postgres only.");
                return await SqliteRagStore.OpenAsync(options.DataDirectory, time, ct);
            case "postgres" or "postgresql":
                if (string.IsNullOrWhiteSpace(options.ConnectionString))
                    throw new ArgumentException("Storage provider 'postgres' needs a ConnectionString.", nameof(options));
                if (options.BlobDirectory is not null && blobs is not "files")
                    throw new ArgumentException("BlobDirectory is set but Blobs is not 'files': originals would go to the database and the folder be ignored.", nameof(options));
                return await PostgresRagStore.OpenAsync(options.ConnectionString,
                    blobs is "files" ? options.BlobDirectory ?? Path.Combine(options.DataDirectory, "blobs") : null, time, ct);
            default:
                throw new ArgumentException($"Unknown storage provider '{options.Provider}': use 'sqlite' or 'postgres'.", nameof(options));
        }
    }
}
