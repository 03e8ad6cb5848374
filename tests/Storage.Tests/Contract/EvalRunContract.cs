namespace Rag.Storage.Tests;

public abstract class EvalRunContract(IStoreBackend backend) : StoreContract(backend)
{
    [SkippableFact]
    public async Task Eval_runs_are_created_updated_and_listed_per_tenant()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var run = await store.EvalRuns.CreateAsync(new EvalRunRecord("", a, "squad-dev", "running", """{"k":5}""", null, 0, null, default, default));
        Assert.False(string.IsNullOrEmpty(run.Id));
        Assert.Equal(run, await store.EvalRuns.GetAsync(a, run.Id));

        Clock.Advance(TimeSpan.FromMinutes(3));
        await store.EvalRuns.UpdateAsync(run with { Status = "done", Progress = 1.0, ResultJson = """{"recall@5":0.91}""" });
        var done = await store.EvalRuns.GetAsync(a, run.Id);
        Assert.Equal(("done", 1.0, """{"recall@5":0.91}"""), (done!.Status, done.Progress, done.ResultJson));
        Assert.Equal(Clock.GetUtcNow(), done.UpdatedAt);
        Assert.Equal(run.CreatedAt, done.CreatedAt);

        var later = await store.EvalRuns.CreateAsync(run with { Id = "", Name = "second" });
        Assert.Equal([later.Id, run.Id], (await store.EvalRuns.ListAsync(a)).Select(r => r.Id));
        Assert.Null(await store.EvalRuns.GetAsync(b, run.Id));
        Assert.Empty(await store.EvalRuns.ListAsync(b));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.EvalRuns.UpdateAsync(done with { TenantId = b }));
    }
}
