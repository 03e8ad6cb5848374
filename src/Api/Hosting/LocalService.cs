using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Rag.Hosting;

namespace Rag.Api.Hosting;

/// <summary>
/// What a running service tells CLI commands on the same data folder (as Docker's daemon does through its
/// socket): its URL and a local operator token. The file is readable by its owner only (0600), like the
/// data folder's SQLite file, so whoever can read it could open the store anyway.
/// </summary>
public sealed record LocalServiceInfo(string Url, int ProcessId, string Token)
{
    public const string FileName = "service.json";

    /// <summary>Held open (exclusively) while the service runs: the OS drops it when the process dies, even on kill -9.</summary>
    public const string LockFileName = "service.lock";

    /// <summary>The header naming the tenant (by id) a local-token request acts for.</summary>
    public const string TenantHeader = "X-Rag-Tenant";

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The service running on this data folder, or null when none does (no file, or a stale one whose lock is free).</summary>
    public static LocalServiceInfo? Find(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, FileName);
        if (!File.Exists(file) || !IsLocked(Path.Combine(dataDirectory, LockFileName))) return null;
        try
        {
            return JsonSerializer.Deserialize<LocalServiceInfo>(File.ReadAllText(file), Json);
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"A service runs on {dataDirectory} but its {FileName} cannot be read: {e.Message}", e);
        }
    }

    static bool IsLocked(string lockFile)
    {
        try
        {
            using var probe = new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None);
            return false; // nobody holds it: the service that wrote the file is gone
        }
        catch (FileNotFoundException) { return false; }
        catch (IOException) { return true; }
    }

    internal void Write(string dataDirectory)
    {
        var file = Path.Combine(dataDirectory, FileName);
        var temporary = file + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        File.Delete(temporary); // UnixCreateMode applies only to a file this call creates
        using (var stream = new FileStream(temporary, options))
            JsonSerializer.Serialize(stream, this, Json);
        File.Move(temporary, file, overwrite: true);
    }
}

/// <summary>This service's local operator token: random per start, never stored anywhere but the 0600 service file.</summary>
public sealed class LocalOperatorToken
{
    public string Value { get; } = "ragl_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();

    public bool Matches(string candidate) =>
        CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(candidate), System.Text.Encoding.UTF8.GetBytes(Value));
}

/// <summary>
/// Once the server listens, writes the service file in an embedded data folder and holds its lock; removes both at stop.
/// Only where the service owns embedded indexes: server-mode stores take any number of processes.
/// </summary>
sealed class LocalServiceAnnouncer(IServer server, IHostApplicationLifetime lifetime, RagRuntime runtime, LocalOperatorToken token,
    ILogger<LocalServiceAnnouncer> logger) : IHostedService
{
    FileStream? held;

    public Task StartAsync(CancellationToken ct)
    {
        if (!OwnsEmbeddedIndexes(runtime.Options)) return Task.CompletedTask;
        lifetime.ApplicationStarted.Register(Announce);
        return Task.CompletedTask;
    }

    void Announce()
    {
        // A test server has no addresses: nothing to announce.
        if (LocalUrl(server.Features.Get<IServerAddressesFeature>()?.Addresses ?? []) is not { } url) return;
        var data = runtime.Options.DataPath;
        try
        {
            held = new FileStream(Path.Combine(data, LocalServiceInfo.LockFileName), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            new LocalServiceInfo(url, Environment.ProcessId, token.Value).Write(data);
            logger.LogInformation("CLI commands on {Data} go through {Url}", data, url);
        }
        catch (IOException e)
        {
            logger.LogWarning("Could not write {File} ({Message}); CLI commands on this data folder will not find the service", LocalServiceInfo.FileName, e.Message);
        }
    }

    public Task StopAsync(CancellationToken ct)
    {
        // The host may stop twice at once (a test's StopAsync and its dispose): only one call takes the lock to release.
        if (Interlocked.Exchange(ref held, null) is not { } lockFile) return Task.CompletedTask;
        File.Delete(Path.Combine(runtime.Options.DataPath, LocalServiceInfo.FileName));
        lockFile.Dispose();
        return Task.CompletedTask;
    }

    static bool OwnsEmbeddedIndexes(RagOptions options) =>
        options.Storage.Provider.Trim().ToLowerInvariant() is "sqlite" || options.Vectors.Provider.Trim().ToLowerInvariant() is "embedded";

    /// <summary>An http address this machine can reach: a wildcard host (0.0.0.0, [::], +, *) becomes the loopback address.</summary>
    internal static string? LocalUrl(IEnumerable<string> addresses)
    {
        foreach (var address in addresses.OrderBy(a => a.StartsWith("https:", StringComparison.OrdinalIgnoreCase)))
        {
            var wildcard = address.Replace("://+:", "://127.0.0.1:").Replace("://*:", "://127.0.0.1:")
                .Replace("://0.0.0.0:", "://127.0.0.1:").Replace("://[::]:", "://127.0.0.1:");
            if (Uri.TryCreate(wildcard, UriKind.Absolute, out var uri)) return uri.GetLeftPart(UriPartial.Authority);
        }
        return null;
    }
}
