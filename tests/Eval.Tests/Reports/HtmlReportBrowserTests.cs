using Microsoft.Playwright;
using Rag.Testing;
using Xunit.Abstractions;

namespace Rag.Eval.Tests.Reports;

/// <summary>The HTML report in a real browser: Debian's headless Chromium driven by Playwright.</summary>
public class HtmlReportBrowserTests(ITestOutputHelper output)
{
    const string Chromium = "/usr/bin/chromium";

    [SkippableFact]
    public async Task Report_opens_without_console_errors_and_shows_its_charts()
    {
        Skip.IfNot(File.Exists(Chromium), $"skipped: {Chromium} is not installed (apt-get install chromium)");
        using var dir = new TempDir();
        var questions = Enumerable.Range(0, 40).Select(i => Fixtures.Question($"q{i}", i % 4 == 3 ? null : 1 + i % 3, i % 5 == 4 ? null : 1 + i % 4, 5 + i * 0.7, i % 2 == 0 ? "Denver Broncos" : "Carolina")).ToList();
        var run = Fixtures.Run("eval-browser0000000", questions, generate: true, ks: [1, 5, 20]);
        var html = Path.Combine(dir.Path, "report.html");
        await File.WriteAllTextAsync(html, HtmlReport.Render(run));

        using var playwright = await Playwright.CreateAsync();
        await using var context = await playwright.Chromium.LaunchPersistentContextAsync(Path.Combine(dir.Path, "profile"), new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            ViewportSize = new ViewportSize { Width = 1280, Height = 1400 },
        });
        var page = context.Pages.Count > 0 ? context.Pages[0] : await context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        page.PageError += (_, e) => errors.Add(e);
        var requests = new List<string>();
        page.Request += (_, r) => requests.Add(r.Url);

        await page.GotoAsync(new Uri(html).AbsoluteUri);
        await page.WaitForLoadStateAsync(LoadState.Load);

        foreach (var id in new[] { "chart-recall", "chart-latency-retrieval", "chart-latency-generation", "chart-latency-endtoend" })
        {
            var box = await page.Locator($"svg#{id}").BoundingBoxAsync();
            Assert.True(box is { Width: > 100, Height: > 100 }, $"{id} is not drawn");
        }
        Assert.Equal(2, await page.Locator("svg#chart-recall polyline").CountAsync());
        Assert.True(await page.Locator("svg#chart-latency-retrieval rect.bar").CountAsync() > 1);

        // The page's own script runs: filtering the question table.
        Assert.Equal("40 of 40 shown", await page.Locator("#shown").TextContentAsync());
        await page.Locator("#misses").CheckAsync();
        Assert.Equal("10 of 40 shown", await page.Locator("#shown").TextContentAsync());

        var shots = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(shots);
        var shot = Path.Combine(shots, "eval-report.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = shot, FullPage = false });
        output.WriteLine("screenshot: " + shot);
        Assert.True(new FileInfo(shot).Length > 10_000);

        Assert.Empty(errors);
        Assert.All(requests, url => Assert.StartsWith("file://", url)); // self-contained: nothing fetched from anywhere
    }
}
