using System.Diagnostics;
using Rag.Retriever;
using Rag.Testing;
using Xunit.Abstractions;

namespace Rag.Eval.Tests.Running;

/// <summary>The real SQuAD v1.1 dev set through the real store, ingest pipeline and BM25 index.</summary>
public class SquadBm25Tests(ITestOutputHelper output)
{
    const string DevSet = "squad-v1.1/dev-v1.1.json";

    [SkippableFact]
    public async Task Bm25_over_all_dev_paragraphs_finds_the_gold_paragraph_in_the_top_20_for_93_percent()
    {
        var path = SharedData.File(DevSet);
        Skip.If(path is null, SharedData.MissingReason(DevSet));
        using var dir = new TempDir();
        await using var host = await EvalHost.StartAsync(Path.Combine(dir.Path, "data"), Path.Combine(dir.Path, "evals"));
        var clock = Stopwatch.StartNew();

        var result = await host.Runner.RunAsync(new EvalRunOptions
        {
            DatasetSpec = "squad:" + path,
            Limit = 1000,
            Ks = [1, 5, 20],
            Mode = RetrievalMode.Bm25,
            OutputDirectory = Path.Combine(dir.Path, "evals"),
        });

        output.WriteLine($"ingest {result.IngestSeconds:0.0} s, questions {result.QuestionSeconds:0.0} s, total {clock.Elapsed.TotalSeconds:0.0} s");
        output.WriteLine(EvalText.Summary(result));
        Assert.Equal(2067, result.CorpusSize);
        Assert.Equal(1000, result.Questions.Count);
        Assert.Equal(0, result.Metric("Errors")!.Value);
        Assert.Empty(result.Warnings);
        var recall20 = result.Metric("Recall@20")!.Value;
        Assert.True(recall20 >= 0.93, $"Recall@20 = {recall20:0.000}, expected >= 0.93");
        Assert.True(result.Metric("AnswerRecall@20")!.Value >= recall20 - 0.05);
        Assert.True(result.Metric("Recall@1")!.Value <= result.Metric("Recall@5")!.Value);

        // The same command again reuses the indexed corpus and every stored answer.
        var again = await host.Runner.RunAsync(new EvalRunOptions
        {
            DatasetSpec = "squad:" + path,
            Limit = 1000,
            Ks = [1, 5, 20],
            Mode = RetrievalMode.Bm25,
            OutputDirectory = Path.Combine(dir.Path, "evals"),
        });
        Assert.Equal(result.RunId, again.RunId);
        Assert.Equal(recall20, again.Metric("Recall@20")!.Value);
        Assert.Null(again.Metric("QuestionsPerSecond")); // nothing was asked
    }
}
