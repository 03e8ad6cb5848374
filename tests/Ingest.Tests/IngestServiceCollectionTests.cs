using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Rag.Retriever;
using Rag.Storage;
using Rag.Tokenizers;

namespace Rag.Ingest.Tests;

public class IngestServiceCollectionTests
{
    static ServiceCollection Services(Harness h, bool dense)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IRagStore>(h.Store);
        services.AddSingleton<ILexicalIndex>(h.Lexical);
        services.AddSingleton<IVectorIndex>(h.Vectors);
        services.AddSingleton<ITokenizer>(new WordTokenizer());
        if (dense) services.AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(h.Embedder);
        return services;
    }

    [Fact]
    public void RegistersEverythingAndTheWorkerOnlyWhenAsked()
    {
        var h = new Harness();
        using var withWorker = Services(h, dense: true).AddRagIngest(o => o.Chunking = new ChunkingOptions { MaxTokens = 100, OverlapTokens = 10 }).BuildServiceProvider();
        Assert.NotNull(withWorker.GetRequiredService<DocumentIngestion>());
        Assert.True(withWorker.GetRequiredService<IngestPipeline>().HasDenseIndex);
        Assert.Equal(100, withWorker.GetRequiredService<TextChunker>().Options.MaxTokens);
        Assert.Equal(["txt", "md", "html", "docx", "pdf", "xlsx", "pptx", "csv", "image", "json", "epub", "eml"], withWorker.GetRequiredService<ExtractorRegistry>().Extractors.Select(e => e.Format));
        Assert.Same(withWorker.GetRequiredService<IngestWorker>(), Assert.Single(withWorker.GetServices<IHostedService>()));

        using var withoutWorker = Services(h, dense: false).AddRagIngest(o => o.RunWorker = false).BuildServiceProvider();
        Assert.Empty(withoutWorker.GetServices<IHostedService>());
        Assert.False(withoutWorker.GetRequiredService<IngestPipeline>().HasDenseIndex);
        Assert.NotNull(withoutWorker.GetRequiredService<IngestWorker>()); // still usable by hand (CLI, separate host)
    }

    [Fact]
    public void InvalidOptionsFailAtRegistration()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddRagIngest(o => o.Chunking = new ChunkingOptions { MaxTokens = 10, OverlapTokens = 9 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddRagIngest(o => o.WorkerConcurrency = 0));
    }

    [Fact]
    public async Task TheHostedWorkerIngestsWhatIsSubmitted()
    {
        var h = new Harness();
        var builder = Host.CreateApplicationBuilder();
        foreach (var d in Services(h, dense: true)) builder.Services.Add(d);
        builder.Services.AddRagIngest(o => o.IdleWait = TimeSpan.FromMilliseconds(50));
        using var host = builder.Build();
        await host.StartAsync();
        var ingestion = host.Services.GetRequiredService<DocumentIngestion>();
        var id = (await ingestion.SubmitAsync(Harness.Tenant, DocumentUpload.FromText("Notes", Harness.Prose(40)))).Document.Id;

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while ((await h.Store.Documents.GetAsync(Harness.Tenant, id))!.Status != DocumentStatus.Indexed) await Task.Delay(10, cts.Token);
        await host.StopAsync();
        await h.AssertIndexedOnceAsync(id);
    }
}
