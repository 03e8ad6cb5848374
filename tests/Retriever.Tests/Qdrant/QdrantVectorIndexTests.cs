using Rag.Retriever.Qdrant;

namespace Rag.Retriever.Tests.Qdrant;

/// <summary>The vector index contract against a real Qdrant at QDRANT_URL, its gRPC address (e.g. http://localhost:6334; QDRANT_API_KEY optional); skipped when unset.</summary>
public sealed class QdrantVectorIndexTests : VectorIndexContract
{
    const string SkipReason = "QDRANT_URL (Qdrant's gRPC address, e.g. http://localhost:6334) is not set: Qdrant tests skipped";
    static readonly string? Url = Environment.GetEnvironmentVariable("QDRANT_URL");
    readonly string collection = "rag_test_" + Guid.NewGuid().ToString("N");
    readonly List<QdrantVectorIndex> created = [];

    QdrantVectorIndex New(string name, VectorDistance distance)
    {
        Skip.If(string.IsNullOrEmpty(Url), SkipReason);
        var index = new QdrantVectorIndex(new QdrantOptions
        {
            Url = Url!,
            ApiKey = Environment.GetEnvironmentVariable("QDRANT_API_KEY"),
            Collection = name,
            Distance = distance,
            ExactSearch = true, // the contract compares with brute force
            MaxRetries = 1,
        });
        created.Add(index);
        return index;
    }

    protected override Task<IVectorIndex> CreateIndexAsync(VectorDistance distance) => Task.FromResult<IVectorIndex>(New(collection, distance));

    protected override async Task<IVectorIndex?> OpenSeparateStoreAsync(int dimension, VectorDistance distance)
    {
        var index = New(collection + "_" + distance.ToString().ToLowerInvariant(), distance);
        await index.EnsureReadyAsync(dimension);
        return index;
    }

    public override async Task DisposeAsync()
    {
        if (!string.IsNullOrEmpty(Url))
            foreach (var name in created.Select(c => c.Options.Collection).Distinct())
            {
                using var cleaner = new QdrantVectorIndex(new QdrantOptions { Url = Url, ApiKey = Environment.GetEnvironmentVariable("QDRANT_API_KEY"), Collection = name, MaxRetries = 0 });
                try { await cleaner.DeleteCollectionAsync(); } catch (InvalidOperationException) { }
            }
        await base.DisposeAsync();
    }
}
