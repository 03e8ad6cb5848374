using System.CommandLine;
using Rag.Hosting;
using Rag.Storage;
using Spectre.Console;

namespace Rag.Api.Cli;

static class KeyCommands
{
    public static Command Keys()
    {
        var keys = new Command("keys", "Create, list and revoke API keys (one tenant per key).");

        var create = new Command("create", "Create a key; prints the key alone on the last line (shown once).");
        var admin = new Option<bool>("--admin") { Description = "The key may administer the service." };
        var name = new Option<string>("--name") { Description = "A label for the key.", DefaultValueFactory = _ => "cli" };
        create.Options.Add(CliHost.Tenant);
        create.Options.Add(admin);
        create.Options.Add(name);
        create.SetAction((parse, ct) => CliHost.RunAsync(parse, async (services, token) =>
        {
            var store = services.GetRequiredService<IRagStore>();
            var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: true, token);
            var key = await store.Tenants.CreateApiKeyAsync(tenant.Id, parse.GetValue(name)!, parse.GetValue(admin), token);
            Console.Error.WriteLine($"Created key {key.Info.Id} ({key.Info.Prefix}...) for tenant '{tenant.Name}'. It is shown once:");
            Console.WriteLine(key.Plaintext);
            return 0;
        }, ct, RuntimeRole.Metadata));

        var list = new Command("list", "List keys (hashes are never shown).");
        list.SetAction((parse, ct) => CliHost.RunAsync(parse, async (services, token) =>
        {
            var store = services.GetRequiredService<IRagStore>();
            var tenants = (await store.Tenants.ListTenantsAsync(token)).ToDictionary(t => t.Id, t => t.Name);
            var table = new Table().AddColumns("id", "tenant", "name", "prefix", "admin", "created", "revoked");
            foreach (var k in await store.Tenants.ListApiKeysAsync(null, token))
                table.AddRow(k.Id, Markup.Escape(tenants.GetValueOrDefault(k.TenantId, k.TenantId)), Markup.Escape(k.Name), k.Prefix,
                    k.IsAdmin ? "yes" : "", k.CreatedAt.ToString("u"), k.RevokedAt?.ToString("u") ?? "");
            AnsiConsole.Write(table);
            return 0;
        }, ct, RuntimeRole.Metadata));

        var revoke = new Command("revoke", "Revoke a key by its id.");
        var id = new Argument<string>("id") { Description = "The key id (from rag keys list)." };
        revoke.Arguments.Add(id);
        revoke.SetAction((parse, ct) => CliHost.RunAsync(parse, async (services, token) =>
        {
            var revoked = await services.GetRequiredService<IRagStore>().Tenants.RevokeApiKeyAsync(parse.GetValue(id)!, token);
            if (!revoked) throw new CliException($"No key with id '{parse.GetValue(id)}'.");
            Console.WriteLine($"Revoked {parse.GetValue(id)}.");
            return 0;
        }, ct, RuntimeRole.Metadata));

        keys.Subcommands.Add(create);
        keys.Subcommands.Add(list);
        keys.Subcommands.Add(revoke);
        return keys;
    }
}
