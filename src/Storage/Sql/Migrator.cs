using System.Globalization;

namespace Rag.Storage.Sql;

/// <summary>Applies the engine's pending migrations in one transaction, under the engine's migration lock, and records each in schema_version.</summary>
internal static class Migrator
{
    public static async Task<int> ApplyAsync(SqlBackend db, CancellationToken ct)
    {
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await db.BeginMigrationAsync(c, ct);
        await using (var create = db.Command(c,
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)", tx))
            await create.ExecuteNonQueryAsync(ct);

        int current;
        await using (var read = db.Command(c, "SELECT coalesce(max(version), 0) FROM schema_version", tx))
            current = Convert.ToInt32(await read.ExecuteScalarAsync(ct), CultureInfo.InvariantCulture);

        var known = db.Migrations.Count;
        if (current > known)
            throw new StorageUnavailableException($"{db.Description} has schema version {current}, newer than this build knows ({known}); upgrade the service.");

        foreach (var m in db.Migrations.Where(m => m.Version > current))
        {
            await using (var apply = db.Command(c, m.Sql, tx)) await apply.ExecuteNonQueryAsync(ct);
            await using var record = db.Command(c, "INSERT INTO schema_version (version, name, applied_at) VALUES (@v, @n, @at)", tx,
                ("@v", m.Version), ("@n", m.Name), ("@at", db.Time.GetUtcNow().ToString("O", CultureInfo.InvariantCulture)));
            await record.ExecuteNonQueryAsync(ct);
        }
        await tx.CommitAsync(ct);
        return known;
    }
}
