using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Rag.Web.Tests;

[Collection(WebCollection.Name)]
public sealed class ChatPageTests(WebFixture fixture)
{
    // Long enough to make several chunks, so the highlight is one passage and not the whole text.
    static readonly string SolarMarkdown = BuildSolarMarkdown();

    const string RiversText =
        "Rivers of the northern valley.\n\n" +
        "The Kalix river floods every spring when the snow melts in the mountains. " +
        "Salmon swim upstream in late summer, and the fishing season opens in June.\n\n" +
        "Ferries cross the river at three points; the oldest crossing dates from 1820.";

    static string BuildSolarMarkdown()
    {
        var text = new StringBuilder("# Solar farm operations\n\n");
        string[] topics = ["inverter cooling", "cable insulation", "grounding rods", "panel washing", "fence inspection", "weather logging"];
        for (var i = 0; i < 18; i++)
        {
            text.Append($"## Maintenance log {i + 1}\n\n");
            text.Append($"Technicians checked the {topics[i % topics.Length]} at station {i + 1}. ");
            text.Append("They recorded routine readings, replaced worn parts where needed, and filed the report with the site office.\n\n");
            if (i == 12)
                text.Append("The Zephyr array in Norrland produces 42 megawatts of electricity at its summer peak.\n\n");
        }
        return text.ToString();
    }

    [SkippableFact]
    public async Task Dropped_documents_get_indexed_and_a_streamed_answer_cites_a_highlighted_passage()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(nameof(Dropped_documents_get_indexed_and_a_streamed_answer_cites_a_highlighted_passage));
        var page = session.Page;

        await session.SignInAsync();
        await Expect(page.Locator("#doc-summary")).ToContainTextAsync("No documents yet");
        await Expect(page.Locator("#evals-empty")).ToContainTextAsync("No evaluation runs");
        session.AssertClean("page load");

        await page.GetByLabel("Tags for new uploads").FillAsync("energy, notes");

        // Drag and drop of two files, as the browser delivers it: a drop event carrying a DataTransfer.
        await page.EvaluateAsync(
            """
            (files) => {
              const data = new DataTransfer();
              for (const f of files) data.items.add(new File([f.text], f.name, { type: f.type }));
              document.querySelector("#dropzone").dispatchEvent(new DragEvent("drop", { dataTransfer: data, bubbles: true, cancelable: true }));
            }
            """,
            new[]
            {
                new { name = "solar-farm.md", text = SolarMarkdown, type = "text/markdown" },
                new { name = "rivers.txt", text = RiversText, type = "text/plain" },
            });

        await Expect(page.Locator("#uploads li")).ToHaveCountAsync(2);
        await Expect(page.Locator("#uploads li.done")).ToHaveCountAsync(2);
        var progress = await page.Locator("#uploads progress").EvaluateAllAsync<int[]>("bars => bars.map(b => b.value)");
        Assert.Equal([100, 100], progress);
        await Expect(page.Locator("#doc-list li[data-status='indexed']")).ToHaveCountAsync(2, new() { Timeout = 60_000 });
        await Expect(page.Locator("#doc-summary")).ToHaveTextAsync("2 documents.");
        await Expect(page.Locator("#doc-list li .doc-meta").Filter(new() { HasText = "tags: energy, notes" })).ToHaveCountAsync(2);
        await session.ScreenshotAsync("indexed");
        session.AssertClean("upload and indexing");

        await CountTokenAppendsAsync(page);
        var question = page.GetByRole(AriaRole.Textbox, new() { Name = "Question" });
        await question.FillAsync("How many megawatts does the Zephyr array produce?");
        await question.PressAsync("Enter");

        var answer = page.Locator("#messages li.message.assistant").Last;
        var chips = answer.Locator(".citations .chip");
        await Expect(chips.First).ToBeVisibleAsync();
        // The extractive answerer sends its answer as one token event; the page shows it before `done` arrives.
        Assert.True(await page.EvaluateAsync<int>("() => window.__tokenAppends") >= 1, "no token was shown while the answer streamed");
        await Expect(answer.Locator(".answer")).ToContainTextAsync("42");
        await Expect(answer.Locator(".answer")).ToHaveAttributeAsync("aria-busy", "false");
        await Expect(answer.Locator(".answer-mode")).ToContainTextAsync("Extractive answer");
        await Expect(answer.Locator(".retrieval-mode")).ToHaveTextAsync("BM25-only retrieval");
        await Expect(page.Locator("#stop")).ToBeDisabledAsync();
        await Expect(page.Locator("#send")).ToBeEnabledAsync();
        await session.ScreenshotAsync("answer");
        session.AssertClean("chat");

        // The chip opens the document with the cited passage highlighted, in view and focused.
        var solarChip = chips.Filter(new() { HasText = "Solar" }).First;
        await solarChip.ClickAsync();
        var dialog = page.Locator("#passage-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        var mark = page.Locator("#passage-body mark").First;
        await Expect(mark).ToBeVisibleAsync();
        await Expect(mark).ToBeInViewportAsync();
        await Expect(mark).ToBeFocusedAsync();
        await Expect(page.Locator("#passage-body")).ToContainTextAsync("Technicians checked the inverter cooling at station 1.");
        var marked = string.Concat(await page.Locator("#passage-body mark").AllTextContentsAsync());
        var whole = await page.Locator("#passage-body").TextContentAsync() ?? "";
        Assert.Contains("Zephyr array", marked);
        Assert.True(marked.Length < whole.Length / 2, $"the highlight ({marked.Length} chars) should be one passage, not the document ({whole.Length} chars)");
        await session.ScreenshotAsync("passage");

        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(solarChip).ToBeFocusedAsync(); // focus returns to what opened the view

        // [n] in the answer text opens the same passage.
        var inlineRef = answer.Locator(".answer .cite-ref").First;
        if (await inlineRef.CountAsync() > 0)
        {
            await inlineRef.ClickAsync();
            await Expect(page.Locator("#passage-body mark").First).ToBeVisibleAsync();
            await page.Keyboard.PressAsync("Escape");
            await Expect(dialog).ToBeHiddenAsync();
        }
        session.AssertClean("opening citations");

        // The turn is kept: the conversation shows in the history, and a follow-up stays in it.
        await page.Locator("#history summary").ClickAsync();
        await Expect(page.Locator("#conversations button")).ToHaveCountAsync(1);
        await Expect(page.Locator("#conversations button[aria-current='true']")).ToContainTextAsync("Zephyr");
    }

    /// <summary>Counts text appended to an answer while it is still streaming (aria-busy), i.e. token by token.</summary>
    static Task CountTokenAppendsAsync(IPage page) => page.EvaluateAsync(
        """
        () => {
          window.__tokenAppends = 0;
          new MutationObserver((records) => {
            for (const r of records)
              if (r.type === "characterData" && r.target.parentElement?.closest(".message.assistant .answer[aria-busy='true']")) window.__tokenAppends++;
          }).observe(document.querySelector("#messages"), { subtree: true, characterData: true });
        }
        """);

    static string Sse(string name, object data) => $"event: {name}\ndata: {JsonSerializer.Serialize(data)}\n\n";

    // Without a model the service answers extractively in one token, so the generated-answer path
    // (many tokens, inline [n], mode "generated") is exercised with a scripted stream for /v1/chat;
    // everything else (page, key, documents, chunks) is the real service.
    [SkippableFact]
    public async Task A_generated_answer_is_shown_token_by_token_and_its_inline_citation_opens_the_passage()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(nameof(A_generated_answer_is_shown_token_by_token_and_its_inline_citation_opens_the_passage));
        var page = session.Page;
        var documentId = await session.AddTextDocumentAsync("Comets", "Comets are icy bodies. Halley's comet returns every 76 years.");
        await session.SignInAsync();
        await Expect(page.Locator("#doc-list li[data-status='indexed']")).ToHaveCountAsync(1, new() { Timeout = 60_000 });

        string[] tokens = ["Halley", "'s comet ", "returns every ", "76 years ", "[1]", "."];
        var answer = string.Concat(tokens);
        var citation = new
        {
            number = 1,
            documentId,
            documentTitle = "Comets",
            chunkId = $"{documentId}:0",
            startChar = 0,
            endChar = 60,
            page = 3,
            pageLabel = "slide 3", // the page is named as the server labels it, not always "p. N"
            snippet = "Halley's comet returns every 76 years.",
        };
        var stream = string.Concat(tokens.Select(t => Sse("token", new { text = t }))) + Sse("done", new
        {
            answer,
            citations = new[] { citation },
            conversationId = (string?)null,
            mode = "generated",
            retrievalMode = "hybrid",
            notices = new[] { "Answer written by a test script." },
            standaloneQuestion = "When does Halley's comet return?",
            timings = new { retrievalMs = 1.0, generationMs = 2.0, totalMs = 3.0, generatedTokens = tokens.Length },
        });
        var asked = 0;
        await page.RouteAsync("**/v1/chat", route => ++asked == 1
            ? route.FulfillAsync(new() { Status = 200, ContentType = "text/event-stream", Body = stream })
            : route.FulfillAsync(new() { Status = 200, ContentType = "text/event-stream", Body = Sse("error", new { status = 503, title = "Generator unavailable", detail = "The model server did not answer." }) }));

        await CountTokenAppendsAsync(page);
        var question = page.GetByRole(AriaRole.Textbox, new() { Name = "Question" });
        await question.FillAsync("When does Halley's comet return?");
        await question.PressAsync("Enter");
        var reply = page.Locator("#messages li.message.assistant").Last;
        await Expect(reply.Locator(".answer")).ToHaveAttributeAsync("aria-busy", "false");
        Assert.Equal(tokens.Length, await page.EvaluateAsync<int>("() => window.__tokenAppends"));
        await Expect(reply.Locator(".answer")).ToHaveTextAsync(answer);
        await Expect(reply.Locator(".answer-mode")).ToHaveTextAsync("Generated answer");
        await Expect(reply.Locator(".retrieval-mode")).ToHaveTextAsync("Hybrid retrieval");
        await Expect(reply.Locator(".notices")).ToContainTextAsync("Answer written by a test script.");
        await session.ScreenshotAsync("generated");

        await reply.Locator(".answer .cite-ref").ClickAsync();
        var mark = page.Locator("#passage-body mark");
        await Expect(mark).ToContainTextAsync("Halley's comet returns every 76 years.");
        await Expect(page.Locator("#passage-meta")).ToContainTextAsync("Source [1]");
        await Expect(page.Locator("#passage-meta")).ToContainTextAsync("slide 3");
        await page.Keyboard.PressAsync("Escape");
        await Expect(reply.Locator(".citations .chip")).ToHaveTextAsync("[1] Comets slide 3");
        await Expect(page.Locator("#passage-dialog")).ToBeHiddenAsync();

        // An `error` event mid-stream is shown as the answer's failure, and the form is usable again.
        await question.FillAsync("And the next one?");
        await question.PressAsync("Enter");
        await Expect(page.Locator("#messages li.message.assistant").Last.Locator("[role='alert']"))
            .ToContainTextAsync("Generator unavailable: The model server did not answer.");
        await Expect(page.Locator("#send")).ToBeEnabledAsync();
        session.AssertClean("scripted chat");
    }

    [SkippableFact]
    public async Task A_wrong_key_is_refused_and_the_key_can_be_changed()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(nameof(A_wrong_key_is_refused_and_the_key_can_be_changed));
        var page = session.Page;

        await page.GotoAsync("/");
        var dialog = page.Locator("#key-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(page.Locator("#key-cancel")).ToBeHiddenAsync(); // no way round it without a key
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeVisibleAsync();

        await dialog.GetByLabel("Key", new() { Exact = true }).FillAsync("rag_not-a-real-key");
        // The page asks for documents, conversations and evaluation runs at once (runs after a look at the API's
        // description), and the first 401 shows the message: wait for all three before forgetting them.
        var refusals = new[] { "/v1/documents", "/v1/conversations", "/v1/evals" }
            .Select(path => page.WaitForResponseAsync(r => r.Status == 401 && new Uri(r.Url).AbsolutePath == path)).ToArray();
        await page.Keyboard.PressAsync("Enter");
        await Expect(page.Locator("#key-message")).ToContainTextAsync("refused");
        await Expect(dialog).ToBeVisibleAsync();
        await Task.WhenAll(refusals);
        await session.ScreenshotAsync("refused");
        session.ClearProblems(); // the 401s were the point

        await dialog.GetByLabel("Key", new() { Exact = true }).FillAsync(session.ApiKey);
        await page.Keyboard.PressAsync("Enter");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(page.Locator("#doc-summary")).ToContainTextAsync("No documents yet");

        // Kept in the browser's storage: a reload goes straight in.
        await page.ReloadAsync();
        await Expect(page.Locator("#doc-summary")).ToContainTextAsync("No documents yet");
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Equal(session.ApiKey, await page.EvaluateAsync<string>("() => localStorage.getItem('rag.apiKey')"));

        // "Change API key" reopens it, now cancellable.
        await page.GetByRole(AriaRole.Button, new() { Name = "Change API key" }).ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        session.AssertClean("changing the key");
    }
}
