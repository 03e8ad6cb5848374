using System.Text;

namespace Rag.Ingest.Tests;

public class JsonExtractorTests
{
    static Task<ExtractedText> Extract(string json) => new JsonExtractor().ExtractAsync(Encoding.UTF8.GetBytes(json));

    [Fact]
    public async Task ValuesComeWithTheirKeyPathsAndArrayItemsAreRecords()
    {
        var result = await Extract("""[{"city": "Lisbon", "staff": {"count": 12, "lead": "Ana"}, "tags": ["sea", ""], "closed": null}, {"city": "Oslo", "open": true}]""");
        Assert.Equal("city: Lisbon; staff.count: 12; staff.lead: Ana; tags[0]: sea\n\ncity: Oslo; open: true", result.Text);
        Assert.Single(result.Records);
        Assert.Equal("title: Guide; sections[1].body: Run it", (await Extract("""{"title": "Guide", "sections": [{}, {"body": "Run it"}]}""")).Text);
    }

    [Fact]
    public async Task JsonLinesAreOneRecordEachAndBadJsonFailsClearly()
    {
        Assert.Equal("q: Who?; a: Ada\n\nq: When?; a: 1843", (await Extract("{\"q\": \"Who?\", \"a\": \"Ada\"}\n\n{\"q\": \"When?\", \"a\": 1843}\n")).Text);
        var e = await Assert.ThrowsAsync<ExtractionException>(() => Extract("{\"q\": \"Who?\"}\n{\"q\": "));
        Assert.StartsWith("The JSON could not be read", e.Message);
        await Assert.ThrowsAsync<ExtractionException>(() => Extract("{\"empty\": null}"));
        var deep = string.Concat(Enumerable.Repeat("[", 1000)) + string.Concat(Enumerable.Repeat("]", 1000));
        Assert.StartsWith("The JSON could not be read", (await Assert.ThrowsAsync<ExtractionException>(() => Extract(deep))).Message);
    }
}
