namespace Rag.Storage.Tests;

/// <summary>
/// Base of the contract suites: each concern's tests are written once against IRagStore and run
/// against every implementation by a one-line subclass that supplies the backend.
/// </summary>
public abstract class StoreContract(IStoreBackend backend) : IAsyncLifetime
{
    protected IStoreBackend Backend { get; } = backend;
    protected ManualClock Clock { get; } = new();

    /// <summary>A store on this test's own storage (skips the test when the engine is not available).</summary>
    protected Task<IRagStore> OpenAsync() => Backend.OpenAsync(Clock);

    protected static async Task<string> NewTenantAsync(IRagStore store, string? name = null) =>
        (await store.Tenants.CreateTenantAsync(name ?? "tenant-" + Guid.NewGuid().ToString("N")[..8])).Id;

    protected static DocumentRecord NewDocument(string tenantId, string title = "A title", string? externalId = null, string? hash = null) => new(
        Id: "", TenantId: tenantId, Title: title, FileName: "a.txt", ContentType: "text/plain",
        ContentHash: hash ?? Guid.NewGuid().ToString("N"), SizeBytes: 42, ExternalId: externalId, Tags: ["alpha", "beta"],
        Status: DocumentStatus.Queued, Error: null, ChunkCount: 0, CreatedAt: default, UpdatedAt: default);

    protected static ChunkRecord NewChunk(DocumentRecord doc, int ordinal, string? text = null) =>
        new(doc.Id, doc.TenantId, ordinal, text ?? $"chunk {ordinal} of {doc.Title}", ordinal * 100, ordinal * 100 + 90, "Intro > Part", ordinal + 1,
            PageLabels.Of(PageKind.Slide, ordinal + 1));

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => Backend.DisposeAsync().AsTask();
}
