using Rag.Testing;

namespace Rag.Eval.Tests.Datasets;

public class SquadReaderTests
{
    const string V2 = """
    {"version": "v2.0", "data": [
      {"title": "Super_Bowl_50", "paragraphs": [
        {"context": "The Denver Broncos defeated the Carolina Panthers.", "qas": [
          {"id": "q1", "question": "Who won?", "answers": [{"text": "Denver Broncos", "answer_start": 4}, {"text": "Denver Broncos", "answer_start": 4}, {"text": "Broncos", "answer_start": 11}]},
          {"id": "q2", "question": "Who lost on the moon?", "answers": [], "plausible_answers": [{"text": "Carolina Panthers", "answer_start": 33}], "is_impossible": true}
        ]},
        {"context": "It was played in Santa Clara.", "qas": [
          {"id": "q3", "question": "Where?", "answers": [{"text": "Santa Clara", "answer_start": 17}]},
          {"id": "q4", "question": "No answers and not flagged", "answers": []},
          {"id": "q1", "question": "Duplicate id", "answers": [{"text": "x", "answer_start": 0}]}
        ]},
        {"context": "", "qas": [{"id": "q5", "question": "Lost with its paragraph", "answers": [{"text": "y", "answer_start": 0}]}]}
      ]},
      {"title": "Second", "paragraphs": [{"context": "Other text.", "qas": []}]}
    ]}
    """;

    [Fact]
    public async Task Reads_paragraphs_as_corpus_and_skips_unanswerable_with_a_count()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "v2.json");
        await File.WriteAllTextAsync(path, V2);

        var d = await SquadReader.ReadAsync(path);

        Assert.Equal(["0-0", "0-1", "1-0"], d.Corpus.Select(c => c.Id));
        Assert.Equal("Super Bowl 50", d.Corpus[0].Title);
        Assert.Equal(["q1", "q3"], d.Questions.Select(q => q.Id));
        Assert.Equal(["Denver Broncos", "Broncos"], d.Questions[0].Answers); // distinct, in order
        Assert.Equal(["0-0"], d.Questions[0].GoldDocumentIds);
        Assert.Equal(["0-1"], d.Questions[1].GoldDocumentIds);
        Assert.Equal(1, d.SkippedUnanswerable);
        Assert.Equal(3, d.Warnings.Count);
        Assert.Contains(d.Warnings, w => w.Message.Contains("data[0].paragraphs[1].qas[1]") && w.Message.Contains("no answer texts"));
        Assert.Contains(d.Warnings, w => w.Message.Contains("duplicate question id q1"));
        Assert.Contains(d.Warnings, w => w.Message.Contains("data[0].paragraphs[2]") && w.Message.Contains("no context"));
    }

    [Fact]
    public async Task Broken_json_fails_with_the_line_number()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "bad.json");
        await File.WriteAllTextAsync(path, "{\"data\": [\n{\"title\": \"x\",\n oops}]}");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => SquadReader.ReadAsync(path));
        Assert.Contains("bad.json:3", e.Message);
    }

    [Fact]
    public async Task Hashes_change_with_content_and_the_corpus_hash_ignores_questions()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "v2.json");
        await File.WriteAllTextAsync(path, V2);
        var a = await SquadReader.ReadAsync(path);
        var b = a with { Questions = a.Questions.Take(1).ToList() };
        Assert.Equal(a.CorpusHash(), b.CorpusHash());
        Assert.NotEqual(a.Hash(), b.Hash());
        Assert.Equal(a.Hash(), (await SquadReader.ReadAsync(path)).Hash());
    }

    [SkippableFact]
    public async Task Reads_the_real_dev_set()
    {
        var path = SharedData.File("squad-v1.1/dev-v1.1.json");
        Skip.If(path is null, SharedData.MissingReason("squad-v1.1/dev-v1.1.json"));
        var d = await DatasetLoader.LoadAsync("squad:" + path);
        Assert.Equal(2067, d.Corpus.Count);
        Assert.Equal(10570, d.Questions.Count);
        Assert.Empty(d.Warnings);
        Assert.Equal("Which NFL team represented the AFC at Super Bowl 50?", d.Questions[0].Question);
        Assert.Equal(["Denver Broncos"], d.Questions[0].Answers);
    }
}
