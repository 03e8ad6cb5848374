using System.Data.Common;
using System.Net.Sockets;

namespace Rag.Storage.Sql;

/// <summary>The stores over one SQL engine; SqliteRagStore and PostgresRagStore only say how to open it.</summary>
public abstract class SqlRagStore : IRagStore
{
    private protected SqlRagStore(SqlBackend backend, IBlobStore blobs)
    {
        Backend = backend;
        Tenants = new SqlTenantStore(backend);
        Documents = new SqlDocumentStore(backend);
        Chunks = new SqlChunkStore(backend);
        Chats = new SqlChatStore(backend);
        Jobs = new SqlJobQueue(backend);
        EvalRuns = new SqlEvalRunStore(backend);
        Blobs = blobs;
    }

    private protected SqlBackend Backend { get; }

    public ITenantStore Tenants { get; }
    public IDocumentStore Documents { get; }
    public IChunkStore Chunks { get; }
    public IChatStore Chats { get; }
    public IJobQueue Jobs { get; }
    public IEvalRunStore EvalRuns { get; }
    public IBlobStore Blobs { get; }

    /// <summary>How long a health check waits: a readiness probe must answer, not hang on a dead network.</summary>
    public static readonly TimeSpan HealthTimeout = TimeSpan.FromSeconds(5);

    public async Task CheckHealthAsync(CancellationToken ct = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(HealthTimeout);
        try
        {
            await Backend.ScalarAsync("SELECT 1", timeout.Token);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new StorageUnavailableException($"{Backend.Description} did not answer within {HealthTimeout.TotalSeconds:0} s.", e);
        }
        catch (Exception e) when (e is not StorageUnavailableException && IsConnectionFailure(e))
        {
            throw new StorageUnavailableException($"{Backend.Description} is not reachable: {Reason(e)}", e);
        }
    }

    public ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return Backend.DisposeAsync();
    }

    internal static bool IsConnectionFailure(Exception e) => e is DbException or SocketException or TimeoutException or IOException;

    /// <summary>Every distinct message down the inner-exception chain, so "connection refused" is not hidden behind "failed to connect".</summary>
    internal static string Reason(Exception e)
    {
        var messages = new List<string>();
        for (Exception? x = e; x is not null; x = x.InnerException)
            if (!messages.Any(m => m.Contains(x.Message, StringComparison.Ordinal))) messages.Add(x.Message.TrimEnd('.'));
        return string.Join(": ", messages) + ".";
    }
}
