using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rag.Api.Hosting;
using Rag.Storage;
using Rag.Testing;

namespace Rag.Web.Tests;

/// <summary>
/// One real service (in-process, embedded mode, free port, no models: BM25 and extractive answers)
/// and one headless Debian Chromium for the whole suite; each test gets its own tenant and browser
/// context, so tests never see each other's documents or storage.
/// </summary>
public sealed class WebFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    // Without the background-networking flags Chromium stalls on this network (../shared/PACKAGES.md).
    static readonly string[] ChromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    readonly TempDir dataDir = new();
    WebApplication? app;
    IPlaywright? playwright;
    IBrowser? browser;

    public static bool BrowserAvailable => File.Exists(ChromiumPath);
    public static string SkipReason => $"skipped: no Chromium at {ChromiumPath} (apt-get install chromium)";

    public Uri BaseAddress { get; private set; } = new("http://127.0.0.1/");
    public IRagStore Store => app?.Services.GetRequiredService<IRagStore>() ?? throw new InvalidOperationException("The service is not running.");

    public static string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        if (!BrowserAvailable) return;
        app = RagServiceExtensions.BuildRagServer(
        [
            "--urls", "http://127.0.0.1:0",
            $"--Rag:DataDirectory={dataDir.Path}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await app.StartAsync();
        BaseAddress = new Uri(app.Urls.First().TrimEnd('/') + "/");

        playwright = await Playwright.CreateAsync();
        browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
        Assertions.SetDefaultExpectTimeout(20_000); // ingestion runs on a shared 2-core machine
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    /// <summary>A fresh tenant with its own key, and a fresh browser context (empty localStorage).</summary>
    public async Task<PageSession> OpenAsync(string testName, ViewportSize? viewport = null)
    {
        if (browser is null) throw new InvalidOperationException(SkipReason);
        var tenant = await Store.Tenants.CreateTenantAsync($"web-{Guid.NewGuid():N}");
        var key = await Store.Tenants.CreateApiKeyAsync(tenant.Id, "web");
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = viewport ?? new ViewportSize { Width = 1280, Height = 900 },
        });
        var page = await context.NewPageAsync();
        return new PageSession(testName, context, page, BaseAddress, key.Plaintext);
    }

    public async Task DisposeAsync()
    {
        if (browser is not null) await browser.CloseAsync();
        playwright?.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
        dataDir.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class WebCollection : ICollectionFixture<WebFixture>
{
    public const string Name = "web";
}
