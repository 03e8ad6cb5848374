using System.Text.Json;
using Rag.Generator.Extractive;
using Rag.Neural;
using Rag.Neural.Builtin;
using Rag.Neural.Weights;
using Rag.Retriever.Encoders;
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
    const int Questions = 600;

    sealed record Case(string Question, IReadOnlyList<Passage> Passages, List<string> Gold);

    static List<Case> Cases()
    {
        var path = SharedData.File(DataFile);
        Skip.If(path is null, SharedData.MissingReason(DataFile));
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path!));
        var cases = new List<Case>();
        foreach (var article in doc.RootElement.GetProperty("data").EnumerateArray())
        {
            var paragraphs = article.GetProperty("paragraphs").EnumerateArray().Select(p => p).ToList();
            for (var i = 0; i < paragraphs.Count && cases.Count < Questions; i += 3)
            {
                var context = paragraphs[i].GetProperty("context").GetString()!;
                var passages = new List<Passage> { Passages.Make(1, context) };
                for (var d = 1; d <= 2; d++)
                    passages.Add(Passages.Make(d + 1, paragraphs[(i + d * 5) % paragraphs.Count].GetProperty("context").GetString()!));
                foreach (var qa in paragraphs[i].GetProperty("qas").EnumerateArray().Take(2))
                    cases.Add(new Case(qa.GetProperty("question").GetString()!, passages,
                        qa.GetProperty("answers").EnumerateArray().Select(a => a.GetProperty("text").GetString()!).ToList()));
            }
            if (cases.Count >= Questions) break;
        }
        return cases;
    }

    static async Task<double> RateAsync(ExtractiveAnswerer answerer, List<Case> cases)
    {
        var found = 0;
        foreach (var c in cases)
            if ((await answerer.AnswerAsync(c.Question, c.Passages)).Sentences.Any(s => c.Gold.Any(g => s.Text.Contains(g, StringComparison.Ordinal))))
                found++;
        return (double)found / cases.Count;
    }

    [SkippableFact]
    public async Task Quoted_sentences_contain_the_gold_answer_for_most_questions()
    {
        var cases = Cases();
        var rate = await RateAsync(new ExtractiveAnswerer(maxSentences: 1), cases);
        var rateTwo = await RateAsync(new ExtractiveAnswerer(maxSentences: 2), cases);
        output.WriteLine($"SQuAD dev, {cases.Count} questions, lexical: gold answer in the quoted sentence {rate:P1}; in up to two sentences {rateTwo:P1}");
        // Measured 85.3% (one sentence) and 89.3% (two); plain sentence BM25 without the pronoun and number
        // rules gives 84.7%. Below 80% means a regression in scoring or sentence splitting.
        Assert.True(rate >= 0.80, $"one sentence: {rate:P1}");
        Assert.True(rateTwo >= rate);
    }

    /// <summary>The question encoder's similarity blended with the lexical evidence, at several weights; the default must beat lexical alone.</summary>
    [SkippableFact]
    public async Task The_question_encoder_finds_more_answers_than_words_alone()
    {
        var cases = Cases();
        ITextEncoderModel model;
        try { model = NeuralModels.LoadBuiltinEncoder(BuiltinEncoders.Default); }
        catch (ModelLoadException e) { throw new SkipException($"skipped: {e.Message}"); }
        using var _ = model;
        var similarity = new SentenceSimilarity(
            new CachingEmbeddingGenerator(new DprEmbeddingGenerator(model, BuiltinEncoders.Default.Name, ownsModel: false, input: EmbeddingInput.Query)),
            new CachingEmbeddingGenerator(new DprEmbeddingGenerator(model, BuiltinEncoders.Default.Name, ownsModel: false, input: EmbeddingInput.Document)));

        var lexical = await RateAsync(new ExtractiveAnswerer(maxSentences: 1), cases);
        var rates = new Dictionary<double, double>();
        foreach (var w in new[] { 0.3, ExtractiveAnswerer.DefaultSemanticWeight, 0.7, 1.0 })
        {
            rates[w] = await RateAsync(new ExtractiveAnswerer(maxSentences: 1, similarity: similarity, semanticWeight: w), cases);
            output.WriteLine($"SQuAD dev, {cases.Count} questions, {BuiltinEncoders.Default.Name} weight {w}: gold answer in the quoted sentence {rates[w]:P1} (lexical {lexical:P1})");
        }
        Assert.True(rates[ExtractiveAnswerer.DefaultSemanticWeight] > lexical,
            $"blended {rates[ExtractiveAnswerer.DefaultSemanticWeight]:P1} vs lexical {lexical:P1}");
    }
}
