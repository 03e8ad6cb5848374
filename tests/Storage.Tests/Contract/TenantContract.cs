using System.Security.Cryptography;
using System.Text;

namespace Rag.Storage.Tests;

public abstract class TenantContract(IStoreBackend backend) : StoreContract(backend)
{
    [SkippableFact]
    public async Task Tenants_are_created_found_and_listed_and_names_are_unique()
    {
        var store = await OpenAsync();
        var acme = await store.Tenants.CreateTenantAsync("acme");
        var globex = await store.Tenants.CreateTenantAsync("globex");

        Assert.Equal(acme, await store.Tenants.GetTenantAsync(acme.Id));
        Assert.Equal(globex, await store.Tenants.FindTenantByNameAsync("globex"));
        Assert.Null(await store.Tenants.GetTenantAsync("nope"));
        Assert.Null(await store.Tenants.FindTenantByNameAsync("nope"));
        Assert.Equal([acme, globex], await store.Tenants.ListTenantsAsync());
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.Tenants.CreateTenantAsync("acme"));
    }

    [SkippableFact]
    public async Task A_key_authenticates_only_by_its_plaintext_and_only_its_hash_is_stored()
    {
        var store = await OpenAsync();
        var tenant = await NewTenantAsync(store);
        var key = await store.Tenants.CreateApiKeyAsync(tenant, "ci", isAdmin: true);

        Assert.StartsWith("rag_", key.Plaintext);
        Assert.Equal(4 + 43, key.Plaintext.Length); // 32 bytes in unpadded base64url
        Assert.StartsWith(key.Info.Prefix, key.Plaintext, StringComparison.Ordinal);
        Assert.True(key.Info.IsAdmin);
        Assert.Equal(key.Info, await store.Tenants.AuthenticateAsync(key.Plaintext));

        var tampered = key.Plaintext[..^1] + (key.Plaintext[^1] == 'A' ? 'B' : 'A');
        Assert.Null(await store.Tenants.AuthenticateAsync(tampered));
        Assert.Null(await store.Tenants.AuthenticateAsync(""));
        Assert.Null(await store.Tenants.AuthenticateAsync(key.Plaintext[4..]));

        var atRest = await Backend.DumpApiKeysAsync();
        Assert.DoesNotContain(key.Plaintext, atRest, StringComparison.Ordinal);
        Assert.DoesNotContain(key.Plaintext[4..], atRest, StringComparison.Ordinal);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.Plaintext))), atRest, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_revoked_key_no_longer_authenticates()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var first = await store.Tenants.CreateApiKeyAsync(a, "first");
        var second = await store.Tenants.CreateApiKeyAsync(a, "second");
        var other = await store.Tenants.CreateApiKeyAsync(b, "other");

        Clock.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await store.Tenants.RevokeApiKeyAsync(first.Info.Id));
        Assert.False(await store.Tenants.RevokeApiKeyAsync(first.Info.Id));
        Assert.False(await store.Tenants.RevokeApiKeyAsync("unknown"));

        Assert.Null(await store.Tenants.AuthenticateAsync(first.Plaintext));
        Assert.Equal(second.Info, await store.Tenants.AuthenticateAsync(second.Plaintext));
        var keysOfA = await store.Tenants.ListApiKeysAsync(a);
        Assert.Equal([first.Info.Id, second.Info.Id], keysOfA.Select(k => k.Id));
        Assert.Equal(Clock.GetUtcNow(), keysOfA[0].RevokedAt);
        Assert.Null(keysOfA[1].RevokedAt);
        Assert.Equal(3, (await store.Tenants.ListApiKeysAsync()).Count);
        Assert.Equal([other.Info], await store.Tenants.ListApiKeysAsync(b));
    }

    [SkippableFact]
    public async Task A_key_for_an_unknown_tenant_is_refused()
    {
        var store = await OpenAsync();
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.Tenants.CreateApiKeyAsync("no-such-tenant", "k"));
    }
}
