using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Rag.Testing;

namespace Rag.Api.Tests.ServerMode;

/// <summary>
/// Server mode as docker-compose runs it: an Api with its in-process worker off, and separate ingest
/// worker processes (the Rag.Ingest program, `dotnet run --project src/Ingest`) sharing PostgreSQL's queue
/// and BM25 tables and the originals' blob tables. Skipped without RAG_TEST_POSTGRES.
/// </summary>
public sealed partial class StandaloneWorkerTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    static readonly string IngestDll = Path.Combine(AppContext.BaseDirectory, "Rag.Ingest.dll");

    [SkippableFact]
    public async Task Three_worker_processes_drain_the_api_queue_and_the_api_finds_what_they_indexed()
    {
        // A generous connect timeout: three processes starting at once on a loaded CI machine can take more than the default 5 s to connect.
        var connectionString = new Npgsql.NpgsqlConnectionStringBuilder(await database.NewSchemaAsync()) { Timeout = 60 }.ConnectionString;
        using var data = new TempDir();
        using var workerData = new TempDir(); // the workers share no folder with the Api
        using var api = new RagApiFactory(new Dictionary<string, string?>
        {
            ["Rag:Storage:Provider"] = "postgres",
            ["Rag:Storage:ConnectionString"] = connectionString,
            ["Rag:Worker:Enabled"] = "false",
        }, data.Path);
        var c = await api.NewTenantAsync("fleet");

        string[] topics = ["volcano lava crater", "honeybee hive queen", "chess opening gambit", "glacier ice moraine",
            "violin bow strings", "comet tail nucleus", "tide moon ocean", "bread yeast dough", "cactus desert spine"];
        var uploaded = new List<DocumentView>();
        foreach (var (topic, i) in topics.Select((t, i) => (t, i)))
            uploaded.Add(await c.Http.UploadAsync($"n{i}.txt", Encoding.UTF8.GetBytes($"Note {i}. This note is about {topic}, and only about {topic}."), "text/plain"));
        Assert.All(uploaded, d => Assert.Equal("queued", d.Status)); // nothing in the Api ingests

        var workers = Enumerable.Range(0, 3).Select(_ => RunWorkerAsync(workerData.Path, connectionString, "--drain")).ToList();
        var results = await Task.WhenAll(workers);
        foreach (var (exit, output) in results) Assert.True(exit == 0, output);
        // Each job finished by exactly one of the processes.
        var finished = results.Sum(r => int.Parse(FinishedCount().Match(r.Output).Groups[1].Value));
        Assert.Equal(topics.Length, finished);

        foreach (var (topic, doc) in topics.Zip(uploaded))
        {
            Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(doc.Id, TimeSpan.FromSeconds(5))).Status);
            Assert.Equal(doc.Id, (await c.Http.SearchAsync(topic)).Results[0].DocumentId); // BM25 written by a worker, read by the Api
        }
    }

    [SkippableFact]
    public async Task A_worker_with_a_wrong_database_password_exits_at_once_with_one_clear_line()
    {
        var connectionString = await database.NewSchemaAsync();
        using var data = new TempDir();
        var wrong = new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Password = "not-the-password" }.ConnectionString;
        var (exit, output) = await RunWorkerAsync(data.Path, wrong, "--drain");
        Assert.Equal(1, exit);
        Assert.Contains("password", output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", output); // a message, not a stack trace
    }

    static async Task<(int Exit, string Output)> RunWorkerAsync(string data, string connectionString, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { IngestDll, "--data", data, "--Rag:Storage:Provider=postgres", $"--Rag:Storage:ConnectionString={connectionString}",
                     "--Logging:LogLevel:Default=Warning" }.Concat(extra))
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw; }
        return (process.ExitCode, await stdout + await stderr);
    }

    [GeneratedRegex(@"queue drained, (\d+) job\(s\) finished")]
    private static partial Regex FinishedCount();
}
