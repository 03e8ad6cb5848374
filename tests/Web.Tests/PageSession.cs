using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Rag.Web.Tests;

/// <summary>
/// One test's browser page and API key. Records console errors, uncaught exceptions, failed
/// requests and HTTP error responses, so a test can assert that a stage ran clean; saves a
/// screenshot when disposed, pass or fail.
/// </summary>
public sealed class PageSession : IAsyncDisposable
{
    readonly string testName;
    readonly IBrowserContext context;
    readonly ConcurrentQueue<string> problems = new();
    int screenshots;

    public IPage Page { get; }
    public string ApiKey { get; }
    public HttpClient Api { get; }

    internal PageSession(string testName, IBrowserContext context, IPage page, Uri baseAddress, string apiKey)
    {
        this.testName = testName;
        this.context = context;
        Page = page;
        ApiKey = apiKey;
        Api = new HttpClient { BaseAddress = baseAddress };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);

        page.Console += (_, message) =>
        {
            if (message.Type == "error") problems.Enqueue($"console error: {message.Text} ({message.Location})");
        };
        page.PageError += (_, error) => problems.Enqueue($"uncaught exception: {error}");
        page.RequestFailed += (_, request) => problems.Enqueue($"request failed: {request.Method} {request.Url}: {request.Failure}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400) problems.Enqueue($"HTTP {response.Status}: {response.Request.Method} {response.Url}");
        };
    }

    /// <summary>Opens the page and enters the API key in the dialog it shows on a first visit.</summary>
    public async Task SignInAsync()
    {
        await Page.GotoAsync("/");
        var dialog = Page.Locator("#key-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        await dialog.GetByLabel("Key", new() { Exact = true }).FillAsync(ApiKey);
        await Page.Keyboard.PressAsync("Enter");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(Page.Locator("#health")).ToContainTextAsync("Ready");
        await Expect(Page.Locator("#doc-summary")).Not.ToBeEmptyAsync();
    }

    /// <summary>Fails with every console error and failed request seen since the last check.</summary>
    public void AssertClean(string stage)
    {
        var seen = new List<string>();
        while (problems.TryDequeue(out var problem)) seen.Add(problem);
        Assert.True(seen.Count == 0, $"During {stage}:\n" + string.Join("\n", seen));
    }

    /// <summary>Forgets what was recorded (a test about errors expects some).</summary>
    public void ClearProblems() => problems.Clear();

    /// <summary>Saves a full-page screenshot as screenshots/&lt;test&gt;-&lt;n&gt;-&lt;name&gt;.png under the test output folder.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        var path = Path.Combine(WebFixture.ScreenshotDirectory, $"{testName}-{++screenshots}-{name}.png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true, Timeout = 15_000 });
        return path;
    }

    /// <summary>Adds a text document through the API (for tests whose subject is not the upload).</summary>
    public async Task<string> AddTextDocumentAsync(string title, string text)
    {
        using var response = await Api.PostAsJsonAsync("v1/documents", new { title, text });
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<UploadBody>();
        return body?.Document.Id ?? throw new InvalidOperationException("The upload returned no document.");
    }

    sealed record UploadBody(DocumentBody Document, bool Duplicate);
    sealed record DocumentBody(string Id, string Title, string Status);

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ScreenshotAsync("final");
        }
        catch (Exception e) when (e is PlaywrightException or TimeoutException)
        {
            // A page that crashed or hangs has no screenshot to give; the test's own failure says why.
        }
        await context.CloseAsync();
        Api.Dispose();
    }
}
