using static Rag.Storage.Sql.Rows;

namespace Rag.Storage.Sql;

internal sealed class SqlEvalRunStore(SqlBackend db) : IEvalRunStore
{
    /// <summary>Stores the run with a new id when none is given; CreatedAt and UpdatedAt are set to now.</summary>
    public async Task<EvalRunRecord> CreateAsync(EvalRunRecord run, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        var now = db.Now();
        var stored = run with { Id = string.IsNullOrEmpty(run.Id) ? Ids.New() : run.Id, CreatedAt = now, UpdatedAt = now };
        await db.ExecuteAsync($"INSERT INTO eval_runs ({EvalRunColumns}) VALUES (@id, @tenant, @name, @status, @config, @result, @progress, @error, @created, @updated)", ct,
            ("@id", stored.Id), ("@tenant", stored.TenantId), ("@name", stored.Name), ("@status", stored.Status), ("@config", stored.ConfigJson),
            ("@result", stored.ResultJson), ("@progress", stored.Progress), ("@error", stored.Error), ("@created", now), ("@updated", now));
        return stored;
    }

    /// <summary>Replaces name, status, config, result, progress and error. Throws KeyNotFoundException when absent.</summary>
    public async Task UpdateAsync(EvalRunRecord run, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        var n = await db.ExecuteAsync("""
            UPDATE eval_runs SET name = @name, status = @status, config_json = @config, result_json = @result, progress = @progress,
                error = @error, updated_at = @now
            WHERE tenant_id = @tenant AND id = @id
            """, ct,
            ("@name", run.Name), ("@status", run.Status), ("@config", run.ConfigJson), ("@result", run.ResultJson), ("@progress", run.Progress),
            ("@error", run.Error), ("@now", db.Now()), ("@tenant", run.TenantId), ("@id", run.Id));
        if (n == 0) throw new KeyNotFoundException($"Eval run '{run.Id}' does not exist in tenant '{run.TenantId}'.");
    }

    public Task<EvalRunRecord?> GetAsync(string tenantId, string id, CancellationToken ct = default) =>
        db.QuerySingleAsync($"SELECT {EvalRunColumns} FROM eval_runs WHERE tenant_id = @tenant AND id = @id", ReadEvalRun, ct, ("@tenant", tenantId), ("@id", id));

    public async Task<IReadOnlyList<EvalRunRecord>> ListAsync(string tenantId, int limit = 50, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return await db.QueryAsync($"SELECT {EvalRunColumns} FROM eval_runs WHERE tenant_id = @tenant ORDER BY created_at DESC, id DESC LIMIT @limit",
            ReadEvalRun, ct, ("@tenant", tenantId), ("@limit", limit));
    }
}
