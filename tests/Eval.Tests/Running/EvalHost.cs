using Microsoft.Extensions.DependencyInjection;
using Rag.Ingest;
using Rag.Retriever;
using Rag.Retriever.Hybrid;
using Rag.Retriever.Lexical;
using Rag.Retriever.Vectors;
using Rag.Storage;
using Rag.Storage.Sqlite;

namespace Rag.Eval.Tests.Running;

/// <summary>
/// The embedded service's pieces as the Api wires them, BM25 only: SQLite store, BM25 index, the hybrid
/// retriever without a question encoder, AddRagIngest (worker not hosted) and AddRagEval.
/// </summary>
internal sealed class EvalHost : IAsyncDisposable
{
    readonly ServiceProvider _services;
    readonly IAsyncDisposable[] _owned;

    EvalHost(ServiceProvider services, params IAsyncDisposable[] owned) => (_services, _owned) = (services, owned);

    public EvalRunner Runner => _services.GetRequiredService<EvalRunner>();
    public IRagStore Store => _services.GetRequiredService<IRagStore>();

    public static async Task<EvalHost> StartAsync(string dataDir, string evalDir)
    {
        var store = await SqliteRagStore.OpenAsync(dataDir);
        var lexical = await Bm25Index.OpenAsync(Path.Combine(dataDir, "bm25"));
        var vectors = new EmbeddedVectorIndex(null);
        var services = new ServiceCollection()
            .AddSingleton<IRagStore>(store)
            .AddSingleton<ILexicalIndex>(lexical)
            .AddSingleton<IVectorIndex>(vectors)
            .AddSingleton<IRetriever>(new HybridRetriever(null, vectors, lexical, store.Chunks, store.Documents))
            .AddRagIngest(o => o.RunWorker = false)
            .AddRagEval(o => o.OutputDirectory = evalDir)
            .BuildServiceProvider();
        return new EvalHost(services, lexical, vectors, store); // instances handed to the container are ours to dispose
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        foreach (var d in _owned) await d.DisposeAsync();
    }
}
