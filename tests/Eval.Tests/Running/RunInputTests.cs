using Rag.Storage.Sqlite;
using Rag.Testing;
using static Rag.Eval.Tests.Running.ConcurrentRunTests;

namespace Rag.Eval.Tests.Running;

/// <summary>
/// What reaches the report besides freshly asked questions: duplicated ids, qrels naming documents the corpus
/// lacks, a results file with lines this run did not write, and a run record that disappears.
/// </summary>
public class RunInputTests
{
    [Fact]
    public async Task Duplicate_question_ids_in_a_hand_built_dataset_are_a_clear_error()
    {
        // The readers skip duplicates; a PreparedEvalRun built in code may not. Results are keyed by id, so the
        // second question's answer was once dropped and the first's counted twice.
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var retriever = new FakeRetriever();
        var runner = new EvalRunner(store, retriever, new FakeIndexer());
        var run = await runner.PrepareAsync(Options(dir.Path, questions));
        var q1 = run.Dataset.Questions[0];
        var twice = run with { Dataset = run.Dataset with { Questions = [.. run.Dataset.Questions, q1 with { Question = "capital of Italy" }] } };

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => runner.RunAsync(twice));

        Assert.Contains("'q1' appears more than once", e.Message);
        Assert.Equal(0, retriever.Calls);
        var record = await store.EvalRuns.GetAsync(run.OwnerTenantId, run.RunId);
        Assert.Equal(("Failed", e.Message), (record!.Status, record.Error));
    }

    [Fact]
    public async Task A_beir_set_with_duplicate_queries_and_qrels_naming_absent_documents_runs_and_says_so()
    {
        using var dir = new TempDir();
        var beir = Path.Combine(dir.Path, "beir");
        Directory.CreateDirectory(Path.Combine(beir, "qrels"));
        await File.WriteAllLinesAsync(Path.Combine(beir, "corpus.jsonl"),
        [
            """{"_id": "paris", "title": "Paris", "text": "Paris is the capital of France."}""",
            """{"_id": "rome", "title": "Rome", "text": "Rome is the capital of Italy."}""",
        ]);
        await File.WriteAllLinesAsync(Path.Combine(beir, "queries.jsonl"),
        [
            """{"_id": "b1", "text": "capital of France"}""",
            """{"_id": "b1", "text": "capital of Italy"}""",
            """{"_id": "b2", "text": "capital of Italy"}""",
            """{"_id": "b3", "text": "capital of Spain"}""",
        ]);
        await File.WriteAllLinesAsync(Path.Combine(beir, "qrels", "test.tsv"),
        [
            "query-id\tcorpus-id\tscore",
            "b1\tparis\t1",
            "b2\trome\t1",
            "b2\tlisbon\t2",
            "b3\tmadrid\t1",
        ]);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer());

        var result = await runner.RunAsync(Options(dir.Path, "") with { DatasetSpec = "beir:" + beir });

        Assert.Equal(["b1", "b2", "b3"], result.Questions.Select(q => q.QuestionId));
        Assert.Equal(0, result.Metric("Errors")!.Value);
        Assert.Equal(2 / 3.0, result.Metric("Recall@1")!.Value, 12); // madrid is judged but absent: a miss
        Assert.Null(result.Questions[2].FirstGoldRank);
        // b2: rome at rank 1 of the ideal (lisbon 2, rome 1) ordering: nDCG = (1/log2 2) / (2/log2 2 + 1/log2 3)
        Assert.Equal(1 / (2 + 1 / Math.Log2(3)), result.Questions[1].Ndcg10, 12);
        Assert.Contains(result.Warnings, w => w.Message.Contains("duplicate query id b1"));
        Assert.Contains(result.Warnings, w => w.Message.Contains("query b2") && w.Message.Contains("lisbon"));
        Assert.Contains(result.Warnings, w => w.Message.Contains("query b3") && w.Message.Contains("madrid"));
    }

    [Fact]
    public async Task A_resumed_results_file_with_ids_not_in_the_dataset_uses_the_rest_and_says_so()
    {
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var first = await new EvalRunner(store, new FakeRetriever(), new FakeIndexer()).RunAsync(Options(dir.Path, questions) with { Limit = 2 });
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer());
        var run = await runner.PrepareAsync(Options(dir.Path, questions));
        var foreign = first.Questions[0] with { QuestionId = "not-in-this-dataset" };
        // Lines written by another run: one for a question of this dataset (q1), one for a question it lacks.
        await File.WriteAllLinesAsync(Path.Combine(run.Directory, EvalRunner.ResultsFileName),
        [
            System.Text.Json.JsonSerializer.Serialize(first.Questions[0], EvalJson.Lines),
            System.Text.Json.JsonSerializer.Serialize(foreign, EvalJson.Lines),
        ]);
        var retriever = new FakeRetriever();

        var result = await new EvalRunner(store, retriever, new FakeIndexer()).RunAsync(run);

        Assert.Equal(4, retriever.Calls);
        Assert.Equal(["q1", "q2", "q3", "q4", "q5"], result.Questions.Select(q => q.QuestionId));
        Assert.Equal(0.8, result.Metric("Recall@1")!.Value, 12);
        Assert.Contains(result.Warnings, w => w.File == EvalRunner.ResultsFileName && w.Message.StartsWith("1 result(s)"));
    }

    [Fact]
    public async Task A_resumed_line_without_the_fields_the_scorer_reads_is_asked_again()
    {
        // Valid JSON with a question id, but not a result as this version writes it (no lists): it once passed
        // as a finished question and the scorer failed on its missing lists.
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var store = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer());
        var run = await runner.PrepareAsync(Options(dir.Path, questions));
        var path = Path.Combine(run.Directory, EvalRunner.ResultsFileName);
        await File.WriteAllLinesAsync(path, ["""{"questionId": "q1", "question": "capital of France"}"""]);
        var retriever = new FakeRetriever();

        var result = await new EvalRunner(store, retriever, new FakeIndexer()).RunAsync(run);

        Assert.Equal(5, retriever.Calls);
        Assert.Equal(["paris", "rome", "berlin", "madrid"], result.Questions[0].RankedDocumentIds);
        Assert.Equal(5, File.ReadAllLines(path).Length); // the odd line was dropped, not kept beside the new one
    }

    [Fact]
    public async Task A_run_record_removed_while_the_run_goes_does_not_fail_the_finished_run()
    {
        // SqlEvalRunStore.UpdateAsync throws KeyNotFoundException for a missing row; the final status write
        // came after every question and the reports, so a vanished record once turned a finished run into a crash.
        using var dir = new TempDir();
        var questions = await TinyDataset.WriteAsync(dir.Path);
        await using var sqlite = await SqliteRagStore.OpenAsync(Path.Combine(dir.Path, "data"));
        var store = new VanishingRunStore(sqlite);
        var runner = new EvalRunner(store, new FakeRetriever(), new FakeIndexer());
        var run = await runner.PrepareAsync(Options(dir.Path, questions));
        store.Gone = true;

        var result = await runner.RunAsync(run);

        Assert.Equal(5, result.Questions.Count);
        Assert.True(File.Exists(Path.Combine(run.Directory, EvalRunner.JsonReportName)));
    }
}
