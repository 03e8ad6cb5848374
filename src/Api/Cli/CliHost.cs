using System.CommandLine;
using Microsoft.Extensions.Logging;
using Rag.Api.Hosting;
using Rag.Hosting;
using Rag.Storage;

namespace Rag.Api.Cli;

/// <summary>The same services the HTTP host uses, built for one CLI command (no web server, no background worker).</summary>
static class CliHost
{
    public static readonly Option<string?> Data = new("--data")
    {
        Description = "Data folder (default ./data, or the RAG_DATA environment variable).",
        Recursive = true,
    };

    public static readonly Option<string> Tenant = new("--tenant")
    {
        Description = "Tenant name.",
        DefaultValueFactory = _ => Bootstrap.DefaultTenant,
    };

    /// <summary>
    /// Runs body with opened services; configuration errors become one readable line and exit code 1. A command that
    /// touches only the metadata store passes <see cref="RuntimeRole.Metadata"/>, so it runs beside a service too.
    /// </summary>
    public static async Task<int> RunAsync(ParseResult parse, Func<IServiceProvider, CancellationToken, Task<int>> body, CancellationToken ct,
        RuntimeRole role = RuntimeRole.Service)
    {
        var builder = Host.CreateApplicationBuilder(DataArguments(parse));
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddRagCore(builder.Configuration, runWorker: false, role);
        using var host = builder.Build();
        try
        {
            await host.Services.GetRequiredService<RagRuntime>().InitializeAsync(ct);
            return await body(host.Services, ct);
        }
        catch (Exception e) when (e is InvalidOperationException or CliException or IOException or HttpRequestException)
        {
            Console.Error.WriteLine($"rag: {e.Message}");
            return 1;
        }
        finally
        {
            await host.Services.GetRequiredService<RagRuntime>().DisposeAsync();
        }
    }

    /// <summary>
    /// A command that needs the indexes: through the service running on the data folder when there is one (the
    /// indexes are its own; the metadata store is shared), else alone with every part opened here.
    /// </summary>
    public static Task<int> RunAsync(ParseResult parse, Func<ServiceClient, IServiceProvider, CancellationToken, Task<int>> throughService,
        Func<IServiceProvider, CancellationToken, Task<int>> alone, CancellationToken ct)
    {
        LocalServiceInfo? service;
        try { service = LocalServiceInfo.Find(Configured(parse).DataPath); }
        catch (InvalidOperationException e)
        {
            Console.Error.WriteLine($"rag: {e.Message}");
            return Task.FromResult(1);
        }
        return service is null
            ? RunAsync(parse, alone, ct)
            : RunAsync(parse, async (services, token) =>
            {
                using var client = new ServiceClient(service);
                return await throughService(client, services, token);
            }, ct, RuntimeRole.Metadata);
    }

    /// <summary>The options this command runs with (arguments, environment, appsettings.json), without opening anything.</summary>
    public static RagOptions Configured(ParseResult parse) => RagOptions.Bind(Host.CreateApplicationBuilder(DataArguments(parse)).Configuration);

    /// <summary>This invocation's configuration arguments (--Rag:Section:Key=value), which System.CommandLine does not see.</summary>
    public static readonly AsyncLocal<string[]> Settings = new();

    /// <summary>The host arguments: the configuration arguments, then --data when given (which wins over --Rag:DataDirectory=).</summary>
    public static string[] DataArguments(ParseResult parse) =>
        [.. Settings.Value ?? [], .. parse.GetValue(Data) is { } data ? [RagOptions.DataArgument(data)] : Array.Empty<string>()];

    public static async Task<Tenant> TenantAsync(IServiceProvider services, string name, bool create, CancellationToken ct) =>
        await Bootstrap.TenantByNameAsync(services.GetRequiredService<IRagStore>(), name, create, ct)
        ?? throw new CliException($"No tenant named '{name}'. Create one with: rag keys create --tenant {name}");
}

/// <summary>A user mistake on the command line: printed as one line, exit code 1.</summary>
sealed class CliException(string message) : Exception(message);
