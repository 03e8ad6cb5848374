using Rag.Testing;

namespace Rag.Eval.Tests.Datasets;

public class JsonlAndBeirReaderTests
{
    [Fact]
    public async Task Jsonl_reports_each_malformed_line_with_its_number_and_keeps_the_rest()
    {
        using var dir = new TempDir();
        await File.WriteAllLinesAsync(Path.Combine(dir.Path, "corpus.jsonl"),
        [
            """{"_id": "d1", "title": "Paris", "text": "Paris is the capital of France."}""",
            """{"_id": "d2", "text": ""}""",
            """{"id": "d3", "title": "Rome", "text": "Rome is in Italy."}""",
        ]);
        var questions = Path.Combine(dir.Path, "questions.jsonl");
        await File.WriteAllLinesAsync(questions,
        [
            """{"id": "q1", "question": "Capital of France?", "answers": ["Paris"], "gold_document_ids": ["d1"]}""",
            """{not json""",
            "",
            """{"id": "q3"}""",
            """[1, 2]""",
            """{"id": "q4", "question": "Where is Rome?", "answers": "Italy"}""",
            """{"id": "q5", "question": "Bad answers", "answers": [1, {"a": 2}]}""",
            """{"id": "q1", "question": "Again", "answers": ["x"]}""",
            """{"id": "q6", "question": "Missing gold", "gold_document_ids": ["nowhere"]}""",
            """{"id": "q7", "question": "Nothing to score"}""",
        ]);

        var d = await DatasetLoader.LoadAsync("jsonl:" + questions);

        Assert.Equal(["d1", "d3"], d.Corpus.Select(c => c.Id));
        Assert.Equal(["q1", "q4", "q6"], d.Questions.Select(q => q.Id));
        Assert.Equal(["Italy"], d.Questions[1].Answers);
        Assert.Equal(["nowhere"], d.Questions[2].GoldDocumentIds);
        var byLine = d.Warnings.Where(w => w.File == questions).Select(w => w.Line).ToList();
        Assert.Equal([2, 4, 5, 7, 8, 9, 10], byLine);
        var corpusWarning = Assert.Single(d.Warnings, w => w.File.EndsWith("corpus.jsonl"));
        Assert.Equal(2, corpusWarning.Line);
        Assert.StartsWith(questions + ":2: not valid JSON", d.Warnings.First(w => w.Line == 2 && w.File == questions).ToString());
    }

    [Fact]
    public async Task Jsonl_without_a_corpus_is_a_clear_error()
    {
        using var dir = new TempDir();
        var questions = Path.Combine(dir.Path, "q.jsonl");
        await File.WriteAllTextAsync(questions, """{"id": "q1", "question": "x", "answers": ["y"]}""");
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => DatasetLoader.LoadAsync("jsonl:" + questions));
        Assert.Contains("corpus.jsonl", e.Message);
    }

    [Fact]
    public async Task Beir_reads_graded_qrels_and_skips_unjudged_queries()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "qrels"));
        await File.WriteAllLinesAsync(Path.Combine(dir.Path, "corpus.jsonl"),
        [
            """{"_id": "1", "title": "A", "text": "alpha"}""",
            """{"_id": 2, "title": "B", "text": "beta"}""",
            """{"_id": "3", "title": "C", "text": "gamma"}""",
        ]);
        await File.WriteAllLinesAsync(Path.Combine(dir.Path, "queries.jsonl"),
        [
            """{"_id": "q1", "text": "first"}""",
            """{"_id": "q2", "text": "second"}""",
            """{"_id": "q3", "text": "never judged"}""",
            """{"_id": "q4"}""",
        ]);
        await File.WriteAllLinesAsync(Path.Combine(dir.Path, "qrels", "test.tsv"),
        [
            "query-id\tcorpus-id\tscore",
            "q1\t1\t2",
            "q1\t2\t1",
            "q1\t3\t0",
            "q2\t3",
            "q2\t3\tone",
            "q2\t2\t1",
        ]);

        var d = await DatasetLoader.LoadAsync("beir:" + dir.Path);

        Assert.Equal(["1", "2", "3"], d.Corpus.Select(c => c.Id));
        Assert.Equal(["q1", "q2"], d.Questions.Select(q => q.Id));
        Assert.Equal(new Dictionary<string, int> { ["1"] = 2, ["2"] = 1 }, d.Questions[0].Qrels());
        Assert.Empty(d.Questions[0].Answers);
        Assert.Equal([5, 6], d.Warnings.Where(w => w.File.EndsWith("test.tsv")).Select(w => w.Line));
        Assert.Contains(d.Warnings, w => w.File.EndsWith("queries.jsonl") && w.Line == 4);
        Assert.Contains(d.Warnings, w => w.Message.StartsWith("1 queries have no positive judgement"));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("csv:x.csv")]
    [InlineData("squad:")]
    public async Task Bad_specs_are_argument_errors(string spec) =>
        await Assert.ThrowsAsync<ArgumentException>(() => DatasetLoader.LoadAsync(spec));

    [Fact]
    public async Task Missing_files_are_named()
    {
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => DatasetLoader.LoadAsync("squad:/nonexistent/dev.json"));
        Assert.Contains("/nonexistent/dev.json", e.Message);
    }
}
