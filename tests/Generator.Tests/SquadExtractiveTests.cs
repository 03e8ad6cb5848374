using System.Text.Json;
using Rag.Generator.Extractive;
using Rag.Testing;
using Xunit.Abstractions;

namespace Rag.Generator.Tests;

/// <summary>
/// The extractive answerer on real text: SQuAD v1.1 dev questions with their gold paragraph ranked first and two
/// other paragraphs of the same article after it (as a retriever would return them). The answer counts as found
/// when the quoted sentences contain a gold answer span.
/// </summary>
public class SquadExtractiveTests(ITestOutputHelper output)
{
    const string DataFile = "squad-v1.1/dev-v1.1.json";

    [SkippableFact]
    public void Quoted_sentences_contain_the_gold_answer_for_most_questions()
    {
        var path = SharedData.File(DataFile);
        Skip.If(path is null, SharedData.MissingReason(DataFile));

        using var doc = JsonDocument.Parse(File.ReadAllBytes(path!));
        var answerer = new ExtractiveAnswerer(maxSentences: 1);
        int asked = 0, found = 0, foundTwo = 0;
        var answererTwo = new ExtractiveAnswerer(maxSentences: 2);
        foreach (var article in doc.RootElement.GetProperty("data").EnumerateArray())
        {
            var paragraphs = article.GetProperty("paragraphs").EnumerateArray().Select(p => p).ToList();
            for (var i = 0; i < paragraphs.Count && asked < 600; i += 3)
            {
                var context = paragraphs[i].GetProperty("context").GetString()!;
                var passages = new List<Passage> { Passages.Make(1, context) };
                for (var d = 1; d <= 2; d++)
                    passages.Add(Passages.Make(d + 1, paragraphs[(i + d * 5) % paragraphs.Count].GetProperty("context").GetString()!));
                foreach (var qa in paragraphs[i].GetProperty("qas").EnumerateArray().Take(2))
                {
                    var question = qa.GetProperty("question").GetString()!;
                    var gold = qa.GetProperty("answers").EnumerateArray().Select(a => a.GetProperty("text").GetString()!).ToList();
                    asked++;
                    if (Contains(answerer.Answer(question, passages), gold)) found++;
                    if (Contains(answererTwo.Answer(question, passages), gold)) foundTwo++;
                }
            }
            if (asked >= 600) break;
        }

        var rate = (double)found / asked;
        var rateTwo = (double)foundTwo / asked;
        output.WriteLine($"SQuAD dev, {asked} questions: gold answer in the quoted sentence {rate:P1}; in up to two sentences {rateTwo:P1}");
        // Measured 85.3% (one sentence) and 89.3% (two); plain sentence BM25 without the pronoun and number
        // rules gives 84.7%. Below 80% means a regression in scoring or sentence splitting.
        Assert.True(rate >= 0.80, $"one sentence: {rate:P1}");
        Assert.True(rateTwo >= rate);
    }

    static bool Contains(ExtractiveAnswer answer, List<string> gold) =>
        answer.Sentences.Any(s => gold.Any(g => s.Text.Contains(g, StringComparison.Ordinal)));
}
