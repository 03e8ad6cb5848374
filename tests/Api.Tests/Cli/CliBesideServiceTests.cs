using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Rag.Api.Hosting;
using Rag.Testing;

namespace Rag.Api.Tests.Cli;

/// <summary>
/// The CLI on an embedded data folder while the service runs on it in another process (what a user does in a second
/// terminal): metadata commands share SQLite, index commands go through the service the data folder names.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class CliBesideServiceTests
{
    static Task<(int Code, string Out, string Err)> RunAsync(params string[] args) => CliTests.RunAsync(args);

    [Fact]
    public async Task Every_command_works_on_the_data_folder_of_a_running_service_and_the_service_sees_its_effects()
    {
        using var data = new TempDir();
        using var docs = new TempDir();
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "etna.txt"), Documents.DocumentsEndToEndTests.Volcano);
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "bees.md"), Documents.DocumentsEndToEndTests.Bees);
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "empty.txt"), "   ");
        await using var service = await ServiceProcess.StartAsync(data.Path);

        var (created, key, createErr) = await RunAsync("keys", "create", "--tenant", "me", "--data", data.Path);
        Assert.True(created == 0, createErr + service.Output);
        var http = service.Client(key.TrimEnd().Split('\n')[^1].Trim());

        var (ingest, ingested, ingestErr) = await RunAsync("ingest", docs.Path, "--tenant", "me", "--data", data.Path);
        Assert.True(ingest == 2, ingestErr + ingested + service.Output); // the whitespace-only file is refused, the others indexed
        Assert.Contains("The file contains only whitespace", ingested);
        var listedByService = (await http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!;
        Assert.Equal(2, listedByService.Total);
        Assert.All(listedByService.Items, d => Assert.Equal("indexed", d.Status));
        Assert.Contains("Etna", (await http.SearchAsync("stratovolcano Sicily")).Results[0].DocumentTitle + (await http.SearchAsync("stratovolcano Sicily")).Results[0].Text);

        var (list, listed, listErr) = await RunAsync("docs", "list", "--tenant", "me", "--data", data.Path);
        Assert.True(list == 0, listErr);
        Assert.Contains("etna", listed);
        Assert.Contains("Beekeeping", listed); // a Markdown file's title is its first heading

        var (ask, answer, askErr) = await RunAsync("ask", "Which volcano is on the east coast of Sicily?", "--tenant", "me", "--data", data.Path);
        Assert.True(ask == 0, askErr);
        Assert.Contains("Etna", answer);

        var (search, found, searchErr) = await RunAsync("search", "honeybee hive", "--tenant", "me", "--mode", "bm25", "--data", data.Path);
        Assert.True(search == 0, searchErr);
        Assert.Contains("Beekeeping", found);

        var bees = Regex.Match(listed.Split('\n').Single(l => l.Contains(" Beekeeping ")), "[0-9a-f]{32}").Value;
        var (delete, _, deleteErr) = await RunAsync("docs", "delete", bees, "--tenant", "me", "--data", data.Path);
        Assert.True(delete == 0, deleteErr);
        Assert.Equal(1, (await http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!.Total);
        Assert.DoesNotContain((await http.SearchAsync("honeybee hive")).Results, h => h.DocumentId == bees); // gone from the service's BM25 too

        var (reingest, reingested, reingestErr) = await RunAsync("docs", "reingest", "--all", "--tenant", "me", "--data", data.Path);
        Assert.True(reingest == 0, reingestErr);
        Assert.Contains("Queued 1 document(s)", reingested);

        var (keys, keyList, keysErr) = await RunAsync("keys", "list", "--data", data.Path);
        Assert.True(keys == 0, keysErr);
        Assert.Contains(" me ", keyList);

        var dataset = await WriteDatasetAsync(docs.Path);
        var (eval, evaluated, evalErr) = await RunAsync("eval", "run", "--dataset", "jsonl:" + dataset, "--mode", "bm25", "--k", "1,5", "--data", data.Path);
        Assert.True(eval == 0, evalErr + evaluated + service.Output);
        Assert.Matches(@"recall@5\s+1", evaluated.ToLowerInvariant());

        var (check, checkedModels, checkErr) = await RunAsync("models", "check", "--data", data.Path);
        Assert.True(check == 0, checkErr);
        Assert.Contains("question encoder", checkedModels);

        var (worker, _, workerErr) = await RunAsync("worker", "--drain", "--data", data.Path);
        Assert.Equal(1, worker);
        Assert.Contains("its worker ingests the queue", workerErr);
    }

    [Fact]
    public async Task A_service_file_left_by_a_killed_service_is_ignored_and_the_cli_works_alone()
    {
        using var data = new TempDir();
        var service = await ServiceProcess.StartAsync(data.Path);
        service.Kill(); // kill -9: no chance to remove its file
        await service.DisposeAsync();
        Assert.True(File.Exists(Path.Combine(data.Path, LocalServiceInfo.FileName)));

        using var docs = new TempDir();
        await File.WriteAllTextAsync(Path.Combine(docs.Path, "etna.txt"), Documents.DocumentsEndToEndTests.Volcano);
        var (ingest, _, ingestErr) = await RunAsync("ingest", docs.Path, "--data", data.Path);
        Assert.True(ingest == 0, ingestErr);
        var (search, found, searchErr) = await RunAsync("search", "stratovolcano Sicily", "--data", data.Path);
        Assert.True(search == 0, searchErr);
        Assert.Contains("Etna", found);
    }

    static async Task<string> WriteDatasetAsync(string folder)
    {
        var dir = Path.Combine(folder, "eval");
        Directory.CreateDirectory(dir);
        await File.WriteAllLinesAsync(Path.Combine(dir, "corpus.jsonl"),
        [
            """{"id": "d1", "title": "Paris", "text": "Paris is the capital of France."}""",
            """{"id": "d2", "title": "Rome", "text": "Rome is the capital of Italy."}""",
        ]);
        var questions = Path.Combine(dir, "questions.jsonl");
        await File.WriteAllLinesAsync(questions,
        [
            """{"id": "q1", "question": "What is the capital of France?", "answers": ["Paris"], "gold_document_ids": ["d1"]}""",
            """{"id": "q2", "question": "What is the capital of Italy?", "answers": ["Rome"], "gold_document_ids": ["d2"]}""",
        ]);
        return questions;
    }
}

/// <summary>`rag serve` (rag.dll) in its own process on a data folder, on a free port; ready once it has written its service file.</summary>
sealed class ServiceProcess : IAsyncDisposable
{
    static readonly string ApiDll = Path.Combine(AppContext.BaseDirectory, "rag.dll");
    readonly Process process;
    readonly System.Text.StringBuilder output = new();

    ServiceProcess(Process process) => this.process = process;

    public LocalServiceInfo Info { get; private set; } = null!;

    public string Output
    {
        get { lock (output) return "\nservice output:\n" + output; }
    }

    public static Task<ServiceProcess> StartAsync(string data, params string[] extra) => StartAsync(data, null, extra);

    /// <param name="environment">Variables added to the child's environment (server-mode settings, say).</param>
    public static async Task<ServiceProcess> StartAsync(string data, IReadOnlyDictionary<string, string>? environment, params string[] extra)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        foreach (var arg in new[] { ApiDll, "--data", data, "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning" }.Concat(extra))
            start.ArgumentList.Add(arg);
        var service = new ServiceProcess(Process.Start(start)!);
        service.process.OutputDataReceived += (_, e) => { lock (service.output) service.output.AppendLine(e.Data); };
        service.process.ErrorDataReceived += (_, e) => { lock (service.output) service.output.AppendLine(e.Data); };
        service.process.BeginOutputReadLine();
        service.process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        LocalServiceInfo? info;
        while ((info = LocalServiceInfo.Find(data)) is null)
        {
            if (service.process.HasExited || DateTime.UtcNow > deadline)
            {
                await service.DisposeAsync();
                throw new InvalidOperationException("The service did not announce itself." + service.Output);
            }
            await Task.Delay(100);
        }
        service.Info = info;
        return service;
    }

    public HttpClient Client(string key)
    {
        var http = new HttpClient { BaseAddress = new Uri(Info.Url), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return http;
    }

    public void Kill() => process.Kill(entireProcessTree: true);

    public bool HasExited => process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
