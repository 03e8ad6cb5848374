using System.Text.Json;

namespace Rag.Web.Tests;

/// <summary>The page's pure functions, run in the browser from the modules the service serves.</summary>
[Collection(WebCollection.Name)]
public sealed class PageModuleTests(WebFixture fixture)
{
    [SkippableFact]
    public async Task Overlapping_chunks_rebuild_the_document_once_and_a_gap_becomes_a_break()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(nameof(Overlapping_chunks_rebuild_the_document_once_and_a_gap_becomes_a_break));
        await session.Page.GotoAsync("/"); // the modules are imported from the page's origin

        // Chunks out of order, overlapping by two characters, then a gap of two: "uv" was dropped.
        var result = await session.Page.EvaluateAsync<JsonElement>(
            """
            async () => {
              const { segmentsOf, ordinalOf } = await import("/js/passage.js");
              const doc = "abcdefghijklmnopqrstuvwxyz";
              const chunk = (ordinal, start, end) => ({ ordinal, text: doc.slice(start, end), startChar: start, endChar: end });
              const segments = segmentsOf([chunk(1, 8, 20), chunk(0, 0, 10), chunk(2, 22, 26)]);
              return {
                text: segments.map((s) => s.text).join(""),
                starts: segments.map((s) => s.start),
                gaps: segments.map((s) => s.gap),
                ordinal: ordinalOf("doc:with:colons:7"),
                bad: ordinalOf("no-ordinal"),
              };
            }
            """);
        Assert.Equal("abcdefghijklmnopqrstwxyz", result.GetProperty("text").GetString());
        Assert.Equal([0, 10, 22], result.GetProperty("starts").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([false, false, true], result.GetProperty("gaps").EnumerateArray().Select(e => e.GetBoolean()));
        Assert.Equal(7, result.GetProperty("ordinal").GetInt32());
        Assert.Equal(JsonValueKind.Null, result.GetProperty("bad").ValueKind);
    }

    [SkippableFact]
    public async Task The_event_stream_parser_handles_split_frames_multiline_data_comments_and_crlf()
    {
        Skip.IfNot(WebFixture.BrowserAvailable, WebFixture.SkipReason);
        await using var session = await fixture.OpenAsync(nameof(The_event_stream_parser_handles_split_frames_multiline_data_comments_and_crlf));
        await session.Page.GotoAsync("/");

        var result = await session.Page.EvaluateAsync<JsonElement>(
            """
            async () => {
              const { parseSseFrames } = await import("/js/api.js");
              const first = parseSseFrames('event: token\ndata: {"text":"Hel"}\n\n: keep-alive\n\nevent: done\r\ndata: {"a":\r\ndata: 1}\r\n\r\nevent: tok');
              const second = parseSseFrames(first.rest + 'en\ndata: {"text":"lo"}\n\n');
              return { events: [...first.events, ...second.events], rest: second.rest };
            }
            """);
        var events = result.GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("event").GetString(), e.GetProperty("data").GetString())).ToList();
        Assert.Equal(
            [("token", "{\"text\":\"Hel\"}"), ("done", "{\"a\":\n1}"), ("token", "{\"text\":\"lo\"}")],
            events);
        Assert.Equal("", result.GetProperty("rest").GetString());
    }
}
