using System.Text.Json;
using Rag.Retriever.Lexical;
using Rag.Testing;
using Xunit.Abstractions;

namespace Rag.Retriever.Tests;

/// <summary>SQuAD v1.1 dev: 2,067 paragraphs, 10,570 questions, each with the paragraph it was written from.</summary>
internal static class Squad
{
    public const string File = "squad-v1.1/dev-v1.1.json";

    public static (List<string> Paragraphs, List<(string Question, int Paragraph)> Questions) Load(string path)
    {
        using var doc = JsonDocument.Parse(System.IO.File.ReadAllBytes(path));
        var paragraphs = new List<string>();
        var questions = new List<(string, int)>();
        foreach (var article in doc.RootElement.GetProperty("data").EnumerateArray())
            foreach (var p in article.GetProperty("paragraphs").EnumerateArray())
            {
                paragraphs.Add(p.GetProperty("context").GetString()!);
                foreach (var qa in p.GetProperty("qas").EnumerateArray())
                    questions.Add((qa.GetProperty("question").GetString()!, paragraphs.Count - 1));
            }
        return (paragraphs, questions);
    }
}

public class SquadBm25Tests(ITestOutputHelper output)
{
    [SkippableFact]
    public async Task Gold_paragraph_is_in_the_top_5_and_top_20()
    {
        var path = SharedData.File(Squad.File);
        Skip.If(path is null, SharedData.MissingReason(Squad.File));
        var (paragraphs, questions) = Squad.Load(path!);
        Assert.Equal(2067, paragraphs.Count);

        using var index = Bm25Index.CreateInMemory();
        for (var i = 0; i < paragraphs.Count; i++)
            await index.IndexDocumentAsync("squad", $"p{i}", [], [new LexicalRecord($"p{i}:0", paragraphs[i])]);

        int top5 = 0, top20 = 0;
        var sample = questions.Take(500).ToList();
        foreach (var (question, gold) in sample)
        {
            var hits = index.Search(question, new SearchFilter("squad"), 20);
            var rank = hits.Select(h => h.DocumentId).ToList().IndexOf($"p{gold}");
            if (rank is >= 0 and < 5) top5++;
            if (rank >= 0) top20++;
        }
        double r5 = top5 / (double)sample.Count, r20 = top20 / (double)sample.Count;
        output.WriteLine($"BM25 ({TextAnalyzer.Default.Name}) on SQuAD dev, first 500 questions: recall@5 {r5:F3}, recall@20 {r20:F3}");
        Assert.True(r5 >= 0.85, $"recall@5 {r5:F3} < 0.85");
        Assert.True(r20 >= 0.93, $"recall@20 {r20:F3} < 0.93");
    }
}
