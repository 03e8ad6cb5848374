using System.Text;

namespace Rag.Ingest.Tests;

public class TextChunkerTests
{
    static string Words(int count, int seed = 1)
    {
        var random = new Random(seed);
        var sb = new StringBuilder();
        for (var i = 0; i < count; i++)
        {
            sb.Append("w").Append(random.Next(1000));
            sb.Append(i % 12 == 11 ? ". " : " ");
        }
        return sb.ToString().TrimEnd();
    }

    [Fact]
    public void ChunksRespectTheBudgetAndOffsetsAreExact()
    {
        var text = string.Join("\n\n", Enumerable.Range(0, 30).Select(i => Words(20 + i * 7, i)));
        var tokenizer = new WordTokenizer();
        var chunker = new TextChunker(new ChunkingOptions { MaxTokens = 64, OverlapTokens = 8 }, tokenizer);
        var chunks = chunker.Chunk(ExtractedText.Plain(text)).ToList();
        Assert.True(chunks.Count > 10);
        for (var i = 0; i < chunks.Count; i++)
        {
            var c = chunks[i];
            Assert.Equal(i, c.Ordinal);
            Assert.Equal(text[c.Start..c.End], c.Text);
            Assert.InRange(tokenizer.CountTokens(c.Text), 1, 64);
            Assert.Equal(tokenizer.CountTokens(c.Text), c.Tokens);
            Assert.Equal(c.Text.Trim(), c.Text);
        }
        // Every word of the text is in some chunk, in order: chunks cover the text.
        Assert.Equal(0, chunks[0].Start);
        Assert.Equal(text.Length, chunks[^1].End);
        for (var i = 1; i < chunks.Count; i++)
        {
            Assert.True(chunks[i].Start > chunks[i - 1].Start);
            Assert.True(chunks[i].Start <= chunks[i - 1].End + 2, "no gap between consecutive chunks beyond the separator");
        }
    }

    [Fact]
    public void ConsecutiveChunksOverlapByAtMostTheOverlapBudget()
    {
        var text = Words(2000);
        var tokenizer = new WordTokenizer();
        var chunker = new TextChunker(new ChunkingOptions { MaxTokens = 100, OverlapTokens = 20 }, tokenizer);
        var chunks = chunker.Chunk(ExtractedText.Plain(text)).ToList();
        var overlaps = new List<int>();
        for (var i = 1; i < chunks.Count; i++)
        {
            Assert.True(chunks[i].Start < chunks[i - 1].End, $"chunk {i} does not overlap its predecessor");
            var shared = tokenizer.CountTokens(text[chunks[i].Start..chunks[i - 1].End]);
            Assert.InRange(shared, 1, 20);
            overlaps.Add(shared);
        }
        // Overlaps start at sentence starts when one is in reach (sentences here are 12 words).
        Assert.All(chunks.Skip(1), c => Assert.StartsWith("w", c.Text));
        Assert.True(overlaps.Average() >= 6);
    }

    [Fact]
    public void PrefersParagraphThenSentenceBoundaries()
    {
        var para1 = "Alpha one two three. Alpha four five six.";
        var para2 = "Beta one two three. Beta four five six.";
        var text = para1 + "\n\n" + para2;
        var chunker = new TextChunker(new ChunkingOptions { MaxTokens = 10, OverlapTokens = 0 }, new WordTokenizer());
        var chunks = chunker.Chunk(ExtractedText.Plain(text)).Select(c => c.Text).ToList();
        Assert.Equal(["Alpha one two three. Alpha four five six.", "Beta one two three. Beta four five six."], chunks);

        var sentences = new TextChunker(new ChunkingOptions { MaxTokens = 6, OverlapTokens = 0 }, new WordTokenizer())
            .Chunk(ExtractedText.Plain(para1)).Select(c => c.Text).ToList();
        Assert.Equal(["Alpha one two three.", "Alpha four five six."], sentences);
    }

    [Fact]
    public void HeadingsAndPagesAreCarried()
    {
        var text = "Intro words here.\n\nSetup\n\nPlug the cable in.\n\nUsage\n\nPress the button.";
        int Of(string s) => text.IndexOf(s, StringComparison.Ordinal);
        var extracted = new ExtractedText(text,
            [new Section("Guide > Setup", Of("Setup"), Of("Usage") - 2), new Section("Guide > Usage", Of("Usage"), text.Length)],
            [new PageSpan(1, 0, Of("Usage") - 2), new PageSpan(2, Of("Usage"), text.Length)]);
        var chunks = new TextChunker(new ChunkingOptions { MaxTokens = 50, OverlapTokens = 5 }).Chunk(extracted).ToList();
        Assert.Equal(3, chunks.Count); // a chunk never spans two sections
        Assert.Equal((null, 1), (chunks[0].HeadingPath, chunks[0].Page));
        Assert.Equal(("Guide > Setup", 1), (chunks[1].HeadingPath, chunks[1].Page));
        Assert.Equal(("Guide > Usage", 2), (chunks[2].HeadingPath, chunks[2].Page));
        Assert.Equal("Usage\n\nPress the button.", chunks[2].Text);
    }

    [Fact]
    public void IsDeterministic()
    {
        var text = Words(3000, 7);
        var chunker = new TextChunker();
        var a = chunker.Chunk(ExtractedText.Plain(text)).ToList();
        var b = chunker.Chunk(ExtractedText.Plain(text)).ToList();
        Assert.Equal(a, b);
    }

    [Fact]
    public void FallbackCounterApproximatesWordPieces()
    {
        Assert.Equal(0, ApproximateTokenCounter.Count("   "));
        Assert.Equal(4, ApproximateTokenCounter.Count("Hello, world!"));        // hello , world !
        Assert.Equal(3, ApproximateTokenCounter.Count("東京a"));                // 東 京 a
        Assert.Equal(3, ApproximateTokenCounter.Count("internationalization")); // 20 letters: 1 + 17/6
        Assert.Equal(2, ApproximateTokenCounter.Count("naïve café"));
    }

    [Fact]
    public void TwentyMegabyteSingleLineIsChunkedInWindows()
    {
        // 20 MB on one line: words without any sentence or line break, then a run with no spaces at all.
        var sb = new StringBuilder(20_000_000);
        var random = new Random(3);
        while (sb.Length < 15_000_000) sb.Append("token").Append(random.Next(100)).Append(' ');
        while (sb.Length < 20_000_000) sb.Append((char)('a' + random.Next(26)));
        var text = sb.ToString();
        var tokenizer = new WordTokenizer();
        var chunker = new TextChunker(new ChunkingOptions { MaxTokens = 256, OverlapTokens = 32 }, tokenizer);

        long count = 0, covered = 0;
        var previousEnd = 0;
        var maxChars = 0;
        foreach (var c in chunker.Chunk(ExtractedText.Plain(text)))
        {
            count++;
            Assert.InRange(c.Tokens, 1, 256);
            Assert.Equal(c.End - c.Start, c.Text.Length);
            Assert.True(c.Start <= previousEnd, "chunks leave no gap");
            covered += c.End - Math.Max(c.Start, previousEnd);
            previousEnd = c.End;
            maxChars = Math.Max(maxChars, c.Text.Length);
        }
        Assert.Equal(text.Length, covered);
        // The tokenizer never saw more than one window: the 20 MB line was never tokenised whole.
        Assert.InRange(tokenizer.LongestInput, 1, chunker.CountWindowChars);
        Assert.InRange(maxChars, 1, chunker.CountWindowChars);
        // Words part: 224 new words per chunk (256 - 32 overlap); no-space part: windows of at most 16 chars per token budget.
        var wordChunks = 15_000_000 / 9.9 / 224;
        Assert.InRange(count, (long)wordChunks, (long)(wordChunks + 5_000_000 / 1024.0 * 1.1 + 50));
    }
}
