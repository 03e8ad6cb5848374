namespace Rag.Ingest.Tests;

public class PptxExtractorTests
{
    [Fact]
    public async Task EachSlideIsItsPageWithItsTitleAsHeadingAndItsNotes()
    {
        var bytes = OfficeSamples.Pptx(
            ("Roadmap 2027", ["Ship the search API", "Hire two engineers"], "Mention the budget freeze."),
            (null, ["A slide without a title"], null),
            ("Questions", [], null));
        var result = await new PptxExtractor().ExtractAsync(bytes);

        Assert.Equal(
            "Slide 1: Roadmap 2027\n\nShip the search API\n\nHire two engineers\n\nSpeaker notes: Mention the budget freeze.\n\n" +
            "Slide 2\n\nA slide without a title\n\nSlide 3: Questions",
            result.Text);
        Assert.Equal([1, 2, 3], result.Pages.Select(p => p.Page));
        Assert.Equal("slide 3", result.PageLabel(3)); // citations say "slide 3", not "p. 3"
        Assert.Equal(["Slide 1: Roadmap 2027", "Slide 2", "Slide 3: Questions"], result.Sections.Select(s => s.HeadingPath));
        Assert.Equal("Roadmap 2027", result.Title); // no document title property: the first slide's title

        var chunks = new TextChunker().Chunk(result).ToList();
        Assert.Equal(2, chunks.Single(c => c.Text.Contains("without a title")).Page);
        Assert.Equal(1, chunks.Single(c => c.Text.Contains("budget freeze")).Page);
    }

    [Fact]
    public async Task TruncatedEmptyAndForeignFilesFailWithAClearMessage()
    {
        var deck = OfficeSamples.Pptx(("Title", ["Body text"], null));
        var truncated = await Assert.ThrowsAsync<ExtractionException>(() => new PptxExtractor().ExtractAsync(OfficeSamples.Truncated(deck)));
        Assert.Contains(".pptx file is corrupt or not a PowerPoint deck (a truncated", truncated.Message);
        var blank = await Assert.ThrowsAsync<ExtractionException>(() => new PptxExtractor().ExtractAsync(OfficeSamples.Pptx((null, [], null))));
        Assert.Equal("The slides have no text.", blank.Message);
        var word = await Assert.ThrowsAsync<ExtractionException>(() => new PptxExtractor().ExtractAsync(SampleFiles.Docx([(null, "hello")])));
        Assert.Contains("not a PowerPoint deck", word.Message);
    }
}
