using System.Text;
using System.Text.Json;
using Rag.Testing;
using Rag.Tokenizers;
using Xunit.Abstractions;

namespace Rag.Ingest.Tests;

/// <summary>The chunker with the real BERT uncased WordPiece vocabulary from ../shared/data (skipped when absent).</summary>
public class WordPieceChunkingTests(ITestOutputHelper output)
{
    const string Vocab = "bert-base-uncased/vocab.txt";
    const string Squad = "squad-v1.1/dev-v1.1.json";

    static IEnumerable<string> SquadParagraphs(string path, int count)
    {
        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        return json.RootElement.GetProperty("data").EnumerateArray()
            .SelectMany(a => a.GetProperty("paragraphs").EnumerateArray())
            .Select(p => p.GetProperty("context").GetString()!)
            .Take(count).ToList();
    }

    [SkippableFact]
    public void ChunksOfRealTextFitTheEncodersBudget()
    {
        var vocab = SharedData.File(Vocab);
        var squad = SharedData.File(Squad);
        Skip.If(vocab is null, SharedData.MissingReason(Vocab));
        Skip.If(squad is null, SharedData.MissingReason(Squad));
        var tokenizer = WordPieceTokenizer.FromVocabFile(vocab!);
        var text = string.Join("\n\n", SquadParagraphs(squad!, 300));
        var chunker = new TextChunker(new ChunkingOptions(), tokenizer);

        var chunks = chunker.Chunk(ExtractedText.Plain(text)).ToList();
        Assert.All(chunks, c => Assert.InRange(tokenizer.Encode(c.Text).Length, 1, 256));
        Assert.All(chunks, c => Assert.Equal(text[c.Start..c.End], c.Text));
        var mean = chunks.Average(c => c.Tokens);
        output.WriteLine($"{chunks.Count} chunks, mean {mean:0.0} tokens (budget 256)");
        Assert.True(mean > 150, $"chunks are packed (mean {mean:0.0} tokens)");
    }

    [SkippableFact]
    public void FallbackCounterStaysCloseToWordPiece()
    {
        var vocab = SharedData.File(Vocab);
        var squad = SharedData.File(Squad);
        Skip.If(vocab is null, SharedData.MissingReason(Vocab));
        Skip.If(squad is null, SharedData.MissingReason(Squad));
        var tokenizer = WordPieceTokenizer.FromVocabFile(vocab!);
        long real = 0, approx = 0;
        foreach (var p in SquadParagraphs(squad!, 500))
        {
            real += tokenizer.CountTokens(p);
            approx += ApproximateTokenCounter.Count(p);
        }
        var ratio = (double)approx / real;
        output.WriteLine($"approximate / WordPiece tokens over 500 SQuAD paragraphs: {ratio:0.000}");
        Assert.InRange(ratio, 0.85, 1.25);
    }

    [SkippableFact]
    public void WordsLongerThanWordPiecesLimitStillGiveBoundedChunks()
    {
        var vocab = SharedData.File(Vocab);
        Skip.If(vocab is null, SharedData.MissingReason(Vocab));
        var tokenizer = WordPieceTokenizer.FromVocabFile(vocab!);
        // WordPiece maps any word over 100 chars to one [UNK]: 300 KB without a space is a handful of tokens.
        var text = new string('x', 300_000) + " tail words here.";
        var chunker = new TextChunker(new ChunkingOptions(), tokenizer);
        var chunks = chunker.Chunk(ExtractedText.Plain(text)).ToList();
        Assert.All(chunks, c => Assert.InRange(c.Text.Length, 1, chunker.CountWindowChars));
        Assert.Equal(text.Length, chunks[^1].End);
        Assert.InRange(chunks.Count, 300_000 / chunker.CountWindowChars, 300_000 / chunker.CountWindowChars + 2);
    }
}
