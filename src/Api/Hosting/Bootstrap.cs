using Rag.Hosting;
using Rag.Storage;

namespace Rag.Api.Hosting;

/// <summary>On the first start (a store with no keys) creates the default tenant's admin key and prints it once.</summary>
sealed class AdminKeyBootstrap(RagRuntime runtime, ILogger<AdminKeyBootstrap> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        if (await Bootstrap.EnsureAdminKeyAsync(runtime.Store, ct) is { } key)
        {
            // Printed once: only the hash is stored, so it cannot be shown again.
            Console.WriteLine();
            Console.WriteLine($"Admin API key for tenant '{Bootstrap.DefaultTenant}' (shown once, keep it): {key.Plaintext}");
            Console.WriteLine();
            logger.LogInformation("Created the first admin key {Prefix}", key.Info.Prefix);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

public static class Bootstrap
{
    public const string DefaultTenant = "default";

    /// <summary>On a store with no keys at all, creates the default tenant and an admin key; otherwise null.</summary>
    public static async Task<NewApiKey?> EnsureAdminKeyAsync(IRagStore store, CancellationToken ct)
    {
        if ((await store.Tenants.ListApiKeysAsync(null, ct)).Count > 0) return null;
        var tenant = await TenantByNameAsync(store, DefaultTenant, create: true, ct);
        return await store.Tenants.CreateApiKeyAsync(tenant!.Id, "admin", isAdmin: true, ct);
    }

    public static async Task<Tenant?> TenantByNameAsync(IRagStore store, string name, bool create, CancellationToken ct) =>
        await store.Tenants.FindTenantByNameAsync(name, ct)
        ?? (create ? await store.Tenants.CreateTenantAsync(name, ct) : null);
}
