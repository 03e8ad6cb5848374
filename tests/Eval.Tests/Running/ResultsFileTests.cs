using Rag.Testing;

namespace Rag.Eval.Tests.Running;

public class ResultsFileTests
{
    static QuestionResult Result(string id) =>
        new(id, "q?", ["a"], ["d1"], [new RetrievedItem(1, "d1", "x:0", 1f)], 1, null, 1, 1, 2.5, 3);

    [Fact]
    public async Task A_torn_last_line_is_dropped_and_appending_continues_cleanly()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "results.jsonl");
        var (file, existing) = await ResultsFile.OpenAsync(path, default);
        Assert.Empty(existing);
        await using (file)
        {
            await file.AppendAsync(Result("q1"), default);
            await file.AppendAsync(Result("q2"), default);
        }
        // The process died while writing q3's line.
        await File.AppendAllTextAsync(path, "{\"questionId\":\"q3\",\"quest");

        var (again, found) = await ResultsFile.OpenAsync(path, default);
        Assert.Equal(["q1", "q2"], found.Keys.Order());
        Assert.Equal(Result("q1").Retrieved, found["q1"].Retrieved);
        await using (again) await again.AppendAsync(Result("q3"), default);

        var (_, all) = await ResultsFile.OpenAsync(path, default) is var x ? (x.File, x.Existing) : default;
        await x.File.DisposeAsync();
        Assert.Equal(["q1", "q2", "q3"], all.Keys.Order());
        Assert.Equal(3, (await File.ReadAllLinesAsync(path)).Length);
    }

    [Fact]
    public async Task A_second_writer_is_refused_with_a_clear_error()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "results.jsonl");
        var (file, _) = await ResultsFile.OpenAsync(path, default);
        await using (file)
        {
            var e = await Assert.ThrowsAsync<ResultsFileInUseException>(() => ResultsFile.OpenAsync(path, default));
            Assert.Contains("in use", e.Message);
        }
    }
}
