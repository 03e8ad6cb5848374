using System.Data.Common;
using static Rag.Storage.Sql.Rows;

namespace Rag.Storage.Sql;

internal sealed class SqlTenantStore(SqlBackend db) : ITenantStore
{
    public async Task<Tenant> CreateTenantAsync(string name, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var tenant = new Tenant(Ids.New(), name, db.Now());
        try
        {
            await db.ExecuteAsync("INSERT INTO tenants (id, name, created_at) VALUES (@id, @name, @at)", ct,
                ("@id", tenant.Id), ("@name", tenant.Name), ("@at", tenant.CreatedAt));
        }
        catch (DbException e) when (db.IsUniqueViolation(e))
        {
            throw new InvalidOperationException($"A tenant named '{name}' already exists.", e);
        }
        return tenant;
    }

    public Task<Tenant?> GetTenantAsync(string id, CancellationToken ct = default) =>
        db.QuerySingleAsync($"SELECT {TenantColumns} FROM tenants WHERE id = @id", ReadTenant, ct, ("@id", id));

    public Task<Tenant?> FindTenantByNameAsync(string name, CancellationToken ct = default) =>
        db.QuerySingleAsync($"SELECT {TenantColumns} FROM tenants WHERE name = @name", ReadTenant, ct, ("@name", name));

    public async Task<IReadOnlyList<Tenant>> ListTenantsAsync(CancellationToken ct = default) =>
        await db.QueryAsync($"SELECT {TenantColumns} FROM tenants ORDER BY name", ReadTenant, ct);

    public async Task<NewApiKey> CreateApiKeyAsync(string tenantId, string name, bool isAdmin = false, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (await GetTenantAsync(tenantId, ct) is null) throw new KeyNotFoundException($"Tenant '{tenantId}' does not exist.");
        var plaintext = ApiKeys.NewPlaintext();
        var info = new ApiKeyInfo(Ids.New(), tenantId, name, ApiKeys.Prefix(plaintext), isAdmin, db.Now(), null);
        await db.ExecuteAsync(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, is_admin, created_at) VALUES (@id, @tenant, @name, @prefix, @hash, @admin, @at)", ct,
            ("@id", info.Id), ("@tenant", tenantId), ("@name", name), ("@prefix", info.Prefix), ("@hash", ApiKeys.Hash(plaintext)),
            ("@admin", isAdmin), ("@at", info.CreatedAt));
        return new NewApiKey(info, plaintext);
    }

    public async Task<ApiKeyInfo?> AuthenticateAsync(string plaintextKey, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(plaintextKey) || !plaintextKey.StartsWith(ApiKeys.Scheme, StringComparison.Ordinal)) return null;
        var hash = ApiKeys.Hash(plaintextKey);
        var rows = await db.QueryAsync($"SELECT {ApiKeyColumns}, key_hash FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL",
            r => (Info: ReadApiKey(r), Hash: r.GetString(7)), ct, ("@hash", hash));
        // The index lookup finds the row; the fixed-time compare is what decides.
        return rows.Count == 1 && ApiKeys.HashesEqual(rows[0].Hash, hash) ? rows[0].Info : null;
    }

    public async Task<IReadOnlyList<ApiKeyInfo>> ListApiKeysAsync(string? tenantId = null, CancellationToken ct = default) =>
        tenantId is null
            ? await db.QueryAsync($"SELECT {ApiKeyColumns} FROM api_keys ORDER BY created_at, id", ReadApiKey, ct)
            : await db.QueryAsync($"SELECT {ApiKeyColumns} FROM api_keys WHERE tenant_id = @tenant ORDER BY created_at, id", ReadApiKey, ct, ("@tenant", tenantId));

    public async Task<bool> RevokeApiKeyAsync(string keyId, CancellationToken ct = default) =>
        await db.ExecuteAsync("UPDATE api_keys SET revoked_at = @at WHERE id = @id AND revoked_at IS NULL", ct, ("@id", keyId), ("@at", db.Now())) == 1;
}
