using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Rag.Web.Tests;

[Collection(WebCollection.Name)]
public sealed class DocumentPageTests(WebFixture fixture)
{
    [SkippableFact]
    public async Task A_corrupt_docx_shows_its_failure_message()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(nameof(A_corrupt_docx_shows_its_failure_message));
        var page = session.Page;
        await session.SignInAsync();

        // Random bytes named .docx (not a zip, so not a Word document), beside a good file that must go through.
        var bytes = new byte[4096];
        new Random(6).NextBytes(bytes);
        await page.Locator("#file-input").SetInputFilesAsync(new[]
        {
            new FilePayload { Name = "fine.txt", MimeType = "text/plain", Buffer = "Lighthouses guide ships along the rocky coast at night."u8.ToArray() },
            new FilePayload { Name = "broken.docx", MimeType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document", Buffer = bytes },
        });
        await Expect(page.Locator("#doc-list li[data-status='indexed']")).ToHaveCountAsync(1, new() { Timeout = 60_000 });

        // Rejected at upload (a problem response) or failed in ingestion (the document's error): either way it is shown.
        var failure = page.Locator("#doc-list li[data-status='failed'] .doc-error, #uploads li.failed .state").First;
        await Expect(failure).ToBeVisibleAsync(new() { Timeout = 60_000 });
        var message = await failure.TextContentAsync() ?? "";
        Assert.True(message.Trim().Length > "Failed: ".Length + 5, $"the failure message says nothing useful: '{message}'");
        await Expect(failure).ToHaveAttributeAsync("role", "alert");
        await Expect(page.Locator("#uploads li.failed, #doc-list li[data-status='failed']")).ToHaveCountAsync(1);
        await session.ScreenshotAsync("failed");
    }

    [SkippableFact]
    public async Task Re_ingest_is_offered_on_failed_documents_only_and_runs_the_document_again()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(nameof(Re_ingest_is_offered_on_failed_documents_only_and_runs_the_document_again));
        var page = session.Page;
        await session.AddTextDocumentAsync("Harbour notes", "The harbour master logs every ship that enters the port.");
        await session.SignInAsync();
        // A zip signature and nothing after it: accepted as .docx, fails in extraction.
        await page.Locator("#file-input").SetInputFilesAsync(new FilePayload
        {
            Name = "broken.docx",
            MimeType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Buffer = "PK\x03\x04 not really a Word document"u8.ToArray(),
        });
        var broken = page.Locator("#doc-list li").Filter(new() { HasText = "broken" });
        await Expect(broken).ToHaveAttributeAsync("data-status", "failed", new() { Timeout = 60_000 });
        var error = await broken.Locator(".doc-error").TextContentAsync();
        await Expect(page.Locator("#doc-list li[data-status='indexed']")).ToHaveCountAsync(1, new() { Timeout = 60_000 });
        await Expect(page.Locator("#doc-list li[data-status='indexed']").GetByRole(AriaRole.Button, new() { Name = "Re-ingest Harbour notes" })).ToBeHiddenAsync();

        var reingest = broken.GetByRole(AriaRole.Button, new() { Name = "Re-ingest broken" });
        var response = await page.RunAndWaitForResponseAsync(() => reingest.ClickAsync(),
            r => r.Url.EndsWith("/reingest") && r.Request.Method == "POST");
        Assert.Equal(202, response.Status);
        var jobId = (await response.JsonAsync())?.GetProperty("jobId").GetString();
        Assert.False(string.IsNullOrEmpty(jobId));

        // The job ran (the row read failed before it, too), and the list followed the document back to failed, with the same error.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while ((await fixture.Store.Jobs.GetAsync(jobId!))?.Status is not Rag.Storage.JobStatus.Done)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not finish");
            await Task.Delay(100);
        }
        await Expect(broken).ToHaveAttributeAsync("data-status", "failed", new() { Timeout = 60_000 });
        await Expect(broken.Locator(".doc-error")).ToHaveTextAsync(error!);
        await Expect(reingest).ToBeVisibleAsync();
        await Expect(page.Locator("#doc-list li")).ToHaveCountAsync(2);
        await session.ScreenshotAsync("reingested");
        session.AssertClean("re-ingest");
    }

    [SkippableFact]
    public async Task Search_filters_by_title_and_delete_asks_first_then_removes_the_document()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(nameof(Search_filters_by_title_and_delete_asks_first_then_removes_the_document));
        var page = session.Page;
        var alphaId = await session.AddTextDocumentAsync("Alpha notes", "Alpha particles are helium nuclei.");
        await session.AddTextDocumentAsync("Beta notes", "Beta decay emits an electron or a positron.");
        await session.SignInAsync();

        var rows = page.Locator("#doc-list li");
        await Expect(rows).ToHaveCountAsync(2);
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search by title" }).FillAsync("alpha");
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(rows.First.Locator(".doc-title")).ToHaveTextAsync("Alpha notes");
        await page.GetByRole(AriaRole.Searchbox, new() { Name = "Search by title" }).FillAsync("");
        await Expect(rows).ToHaveCountAsync(2);

        var alpha = rows.Filter(new() { HasText = "Alpha notes" });
        var confirm = page.Locator("#confirm-dialog");

        // Escape in the confirmation keeps the document.
        await alpha.GetByRole(AriaRole.Button, new() { Name = "Delete Alpha notes" }).ClickAsync();
        await Expect(confirm).ToBeVisibleAsync();
        await Expect(confirm).ToContainTextAsync("Alpha notes");
        await page.Keyboard.PressAsync("Escape");
        await Expect(confirm).ToBeHiddenAsync();
        await Expect(rows).ToHaveCountAsync(2);

        await alpha.GetByRole(AriaRole.Button, new() { Name = "Delete Alpha notes" }).ClickAsync();
        await session.ScreenshotAsync("confirm");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();
        await Expect(alpha).ToHaveCountAsync(0);
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(page.Locator("#doc-summary")).ToHaveTextAsync("1 document.");

        using var gone = await session.Api.GetAsync($"v1/documents/{alphaId}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        await session.ScreenshotAsync("deleted");
        session.AssertClean("search and delete");
    }

    [SkippableFact]
    public async Task At_phone_width_the_page_is_one_column_labelled_and_usable_by_keyboard()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(
            nameof(At_phone_width_the_page_is_one_column_labelled_and_usable_by_keyboard), new ViewportSize { Width = 390, Height = 844 });
        var page = session.Page;
        await session.AddTextDocumentAsync("Tides", "The tide rises twice a day because of the moon's pull on the oceans.");
        await session.SignInAsync();
        await Expect(page.Locator("#doc-list li[data-status='indexed']")).ToHaveCountAsync(1, new() { Timeout = 60_000 });

        // One column: nothing wider than the screen, documents below the chat.
        Assert.True(await page.EvaluateAsync<bool>("() => document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways at phone width");
        var chat = await page.Locator("#chat").BoundingBoxAsync();
        var documents = await page.Locator("#documents").BoundingBoxAsync();
        Assert.NotNull(chat);
        Assert.NotNull(documents);
        Assert.True(documents.Y >= chat.Y + chat.Height - 1, "documents should sit below the chat in one column");
        Assert.True(Math.Abs(documents.X - chat.X) < 2, "chat and documents should share one column");

        // Every visible control has a name a screen reader can read.
        var unlabelled = await page.EvaluateAsync<string[]>(
            """
            () => [...document.querySelectorAll("button, input, select, textarea")]
              .filter((e) => e.checkVisibility() && e.type !== "file")
              .filter((e) => !(e.labels?.length) && !e.getAttribute("aria-label") && !e.textContent.trim())
              .map((e) => e.outerHTML)
            """);
        Assert.Empty(unlabelled);

        // Tab moves through the controls with a visible focus ring.
        for (var i = 0; i < 8; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            var ring = await page.EvaluateAsync<string>(
                "() => { const s = getComputedStyle(document.activeElement); return `${document.activeElement.tagName} ${s.outlineStyle} ${s.outlineWidth}`; }");
            Assert.DoesNotContain(" none ", ring);
            Assert.DoesNotContain(" 0px", ring);
        }

        // Enter sends the question.
        var question = page.GetByRole(AriaRole.Textbox, new() { Name = "Question" });
        await question.FocusAsync();
        await page.Keyboard.TypeAsync("Why does the tide rise?");
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#messages li.message.user .answer")).ToHaveTextAsync("Why does the tide rise?");
        await Expect(question).ToHaveValueAsync("");
        await Expect(page.Locator("#messages li.message.assistant .citations .chip").First).ToBeVisibleAsync();
        await session.ScreenshotAsync("phone");
        session.AssertClean("phone-width chat");
    }
}
