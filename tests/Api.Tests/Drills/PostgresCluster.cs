using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rag.Api.Tests.Drills;

/// <summary>
/// A throw-away PostgreSQL cluster of the drill's own (initdb into a temp folder, pg_ctl on a free port), so the drill
/// can stop and restart it while other test assemblies keep using the shared one. Runs as the user postgres when the
/// tests run as root (initdb refuses root), as the current user otherwise.
/// </summary>
sealed class PostgresCluster : IAsyncDisposable
{
    public static readonly string BinDirectory = Environment.GetEnvironmentVariable("RAG_DRILL_PG_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";

    readonly string _directory;

    PostgresCluster(string directory, int port) => (_directory, Port) = (directory, port);

    public int Port { get; }

    /// <summary>Trust authentication on 127.0.0.1: the cluster lives for one test and listens nowhere else.</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Timeout=15";

    /// <summary>Null when the drill can run here; otherwise why not (for Skip).</summary>
    public static string? Unavailable()
    {
        if (!File.Exists(Path.Combine(BinDirectory, "initdb")) || !File.Exists(Path.Combine(BinDirectory, "pg_ctl")))
            return $"skipped: PostgreSQL's initdb and pg_ctl are not in {BinDirectory} (set RAG_DRILL_PG_BIN to their folder)";
        if (Environment.UserName == "root" && !File.Exists("/usr/sbin/runuser") && !File.Exists("/sbin/runuser"))
            return "skipped: running as root and runuser is missing, so initdb cannot run as the user postgres";
        return null;
    }

    public static async Task<PostgresCluster> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "rag-drill-pg-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        if (AsRoot) await RunAsync("chown", "postgres:postgres", directory);
        var cluster = new PostgresCluster(directory, FreePort());
        try
        {
            await cluster.PgAsync("initdb", "-D", directory, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8");
            await cluster.StartServerAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the server and waits until it accepts connections.</summary>
    public Task StartServerAsync() => PgAsync("pg_ctl", "-D", _directory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200", "start");

    /// <summary>Stops the server: "fast" disconnects every client cleanly, "immediate" is a crash (recovery on the next start).</summary>
    public Task StopServerAsync(string mode) => PgAsync("pg_ctl", "-D", _directory, "-m", mode, "-w", "-t", "60", "stop");

    public string Log => File.Exists(Path.Combine(_directory, "server.log")) ? File.ReadAllText(Path.Combine(_directory, "server.log")) : "";

    static bool AsRoot => Environment.UserName == "root";

    Task PgAsync(string tool, params string[] args) =>
        AsRoot ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(BinDirectory, tool), .. args]) : RunAsync(Path.Combine(BinDirectory, tool), args);

    static async Task RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = "/tmp" };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} exited {process.ExitCode}: {await stdout}{await stderr}");
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try { await StopServerAsync("immediate"); } catch (InvalidOperationException) { } // not running
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
