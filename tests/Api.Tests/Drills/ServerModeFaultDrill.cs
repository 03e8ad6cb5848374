using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using Npgsql;
using Rag.Api.Tests.Cli;
using Rag.Testing;
using Xunit.Abstractions;

namespace Rag.Api.Tests.Drills;

/// <summary>
/// Fault drill of server mode with the real processes: an Api (in-process worker off) and three Rag.Ingest workers on a
/// PostgreSQL cluster of the drill's own. While documents are uploaded and ingested, workers are killed with SIGKILL
/// (preferably one holding a lease) and replaced, and PostgreSQL is stopped and started again; during each outage
/// /readyz and ordinary requests must answer 503 with the reason. Then, within the settle limit, every document must be
/// indexed exactly once and findable by its marker word, no job left queued or leased, no chunk row duplicated, and
/// every process still running. Sized by RAG_DRILL_DOCS, RAG_DRILL_KILLS, RAG_DRILL_RESTARTS (CI defaults 100, 5, 1),
/// RAG_DRILL_SETTLE_SECONDS and RAG_DRILL_SEED; RAG_DRILL_ENCODER=builtin:... embeds too (needs QDRANT_URL, since
/// several processes cannot share the embedded vector index) and checks dense search. Figures go to the test output.
/// </summary>
public sealed partial class ServerModeFaultDrill(ITestOutputHelper output)
{
    const int Workers = 3;
    static readonly TimeSpan Outage = TimeSpan.FromSeconds(3);

    static int Setting(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), out var v) && v >= 0 ? v : fallback;

    [SkippableFact]
    public async Task Killed_workers_and_database_restarts_during_ingestion_lose_duplicate_and_strand_nothing()
    {
        var unavailable = PostgresCluster.Unavailable();
        Skip.If(unavailable is not null, unavailable);
        var (docs, kills, restarts) = (Math.Max(1, Setting("RAG_DRILL_DOCS", 100)), Setting("RAG_DRILL_KILLS", 5), Setting("RAG_DRILL_RESTARTS", 1));
        var settleLimit = TimeSpan.FromSeconds(Setting("RAG_DRILL_SETTLE_SECONDS", 120));
        var random = new Random(Setting("RAG_DRILL_SEED", 17));
        var encoder = Environment.GetEnvironmentVariable("RAG_DRILL_ENCODER") is { Length: > 0 } e ? e : null;
        var qdrant = Environment.GetEnvironmentVariable("QDRANT_URL");
        Skip.If(encoder is not null && string.IsNullOrEmpty(qdrant), "skipped: RAG_DRILL_ENCODER needs QDRANT_URL (several processes cannot share the embedded vector index)");

        await using var cluster = await PostgresCluster.StartAsync();
        var environment = new Dictionary<string, string>
        {
            ["Rag__Storage__Provider"] = "postgres",
            ["Rag__Storage__ConnectionString"] = cluster.ConnectionString,
            ["Rag__Worker__Enabled"] = "false",
            // Short leases so a killed worker's job is taken over within seconds rather than a minute.
            ["Rag__Worker__LeaseSeconds"] = "10",
            ["Rag__Worker__PollSeconds"] = "1",
            ["Rag__Models__QuestionEncoder"] = encoder ?? "none",
        };
        if (encoder is not null)
        {
            environment["Rag__Vectors__Provider"] = "qdrant";
            environment["Rag__Vectors__QdrantUrl"] = qdrant!;
            environment["Rag__Vectors__QdrantCollection"] = "rag_drill_" + Guid.NewGuid().ToString("N")[..8];
            if (Environment.GetEnvironmentVariable("QDRANT_API_KEY") is { Length: > 0 } apiKey) environment["Rag__Vectors__QdrantApiKey"] = apiKey;
        }

        var figures = new Figures { Documents = docs };
        using var apiData = new TempDir();
        await using var api = await ServiceProcess.StartAsync(apiData.Path, environment);
        var http = api.Client(await AdminKeyAsync(api));
        using var anonymous = new HttpClient { BaseAddress = new Uri(api.Info.Url), Timeout = TimeSpan.FromSeconds(30) };
        var workers = new List<WorkerProcess>();
        try
        {
            for (var i = 0; i < Workers; i++) workers.Add(WorkerProcess.Start(environment));
            foreach (var w in workers) await w.WaitStartedAsync();
            var texts = Enumerable.Range(0, docs).Select(DocumentText).ToArray();
            var faults = Enumerable.Repeat(Fault.Kill, kills).Concat(Enumerable.Repeat(Fault.Restart, restarts)).OrderBy(_ => random.Next()).ToList();
            var waves = faults.Count + 1;
            var started = Stopwatch.StartNew();
            var lastFault = TimeSpan.Zero;
            for (var wave = 0; wave < waves; wave++)
            {
                // The fault strikes once half the wave is up: while the rest is uploaded (and retried through an outage)
                // and the first half is being ingested.
                var (from, to) = (docs * wave / waves, docs * (wave + 1) / waves);
                var uploading = Parallel.ForEachAsync(Enumerable.Range(from, to - from), new ParallelOptions { MaxDegreeOfParallelism = 4 },
                    async (i, ct) => await UploadAsync(http, i, texts[i], figures, ct));
                if (wave < faults.Count)
                {
                    while (!uploading.IsCompleted && figures.Uploaded < from + (to - from) / 2) await Task.Delay(20);
                    if (faults[wave] == Fault.Kill) await KillOneAsync(cluster, workers, environment, random, figures);
                    else await RestartDatabaseAsync(cluster, http, anonymous, restartIndex: figures.Restarts, figures);
                    lastFault = started.Elapsed;
                }
                await uploading;
            }

            // Settle: every document indexed and no job left to run, within the limit.
            var settled = await SettleAsync(cluster, docs, settleLimit);
            figures.SettleSeconds = (started.Elapsed - lastFault).TotalSeconds;
            figures.Settled = settled;
            await CheckAsync(cluster, http, docs, encoder is not null, figures);
            figures.ProcessesDown = (api.HasExited ? 1 : 0) + workers.Count(w => w.HasExited);
            output.WriteLine(figures.ToString());

            var report = figures + Tail(api.Output) + string.Concat(workers.Select(w => Tail(w.Output)));
            Assert.True(settled, "not settled within " + settleLimit + ": " + report);
            Assert.True(figures.Lost == 0 && figures.Duplicated == 0 && figures.Stuck == 0 && figures.FailedJobs == 0, report);
            Assert.True(figures.ChunkMismatches == 0 && figures.DuplicateChunkRows == 0 && figures.Bm25Mismatch == 0, report);
            Assert.True(figures.MarkerMisses == 0 && figures.DenseMisses == 0, report);
            Assert.True(figures.ServerErrors == 0, "requests answered 500 instead of 503: " + report);
            Assert.True(figures.ProcessesDown == 0, "a process died: " + report);
            Assert.True(figures.FailedAfterReady.Count == 0, "requests failed after /readyz said ready: " + string.Join("\n", figures.FailedAfterReady) + report);
        }
        finally
        {
            foreach (var w in workers) await w.DisposeAsync();
        }
    }

    enum Fault { Kill, Restart }

    /// <summary>Uploads with an external id, retrying through outages: a retry of an upload that did commit finds it again instead of adding a copy.</summary>
    static async Task UploadAsync(HttpClient http, int i, string text, Figures figures, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            try
            {
                using var response = await http.PostAsJsonAsync("/v1/documents", new { title = $"Drill document {i}", text, externalId = ExternalId(i) }, ct);
                if (response.IsSuccessStatusCode)
                {
                    figures.CountUpload();
                    return;
                }
                figures.Count(response.StatusCode);
                if ((int)response.StatusCode < 500 || DateTime.UtcNow > deadline)
                    throw new InvalidOperationException($"upload {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline) { }
            await Task.Delay(250, ct);
        }
    }

    /// <summary>SIGKILLs a worker that holds a lease (any worker when none does) and starts a replacement.</summary>
    static async Task KillOneAsync(PostgresCluster cluster, List<WorkerProcess> workers, Dictionary<string, string> environment, Random random, Figures figures)
    {
        // lease_owner is host:pid:random/slot (IngestWorker.WorkerId); looked for a little while, the wave being ingested.
        List<WorkerProcess> holding = [];
        for (var look = 0; look < 40 && holding.Count == 0; look++)
        {
            if (look > 0) await Task.Delay(50);
            var owners = await QueryAsync(cluster, "SELECT DISTINCT lease_owner FROM jobs WHERE status = 'leased'", r => r.GetString(0));
            holding = workers.Where(w => owners.Any(o => o.Split(':') is [_, var pid, ..] && pid == w.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList();
        }
        var victim = holding.Count > 0 ? holding[random.Next(holding.Count)] : workers[random.Next(workers.Count)];
        if (holding.Count > 0) figures.KillsMidJob++;
        figures.Kills++;
        victim.Kill();
        await victim.DisposeAsync();
        workers.Remove(victim);
        var replacement = WorkerProcess.Start(environment);
        workers.Add(replacement);
        // Running before the next fault: a worker that cannot reach the database at start exits (by design), so it
        // must not be still starting when the database goes down.
        await replacement.WaitStartedAsync();
    }

    /// <summary>Stops PostgreSQL (fast, then immediate on alternate restarts), checks what the Api says meanwhile, and starts it again.</summary>
    static async Task RestartDatabaseAsync(PostgresCluster cluster, HttpClient http, HttpClient anonymous, int restartIndex, Figures figures)
    {
        figures.Restarts++;
        await cluster.StopServerAsync(restartIndex % 2 == 0 ? "fast" : "immediate");
        var down = Stopwatch.StartNew();

        var (status, body) = await PollAsync(anonymous, "/readyz", s => s == HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(15));
        Assert.True(status == HttpStatusCode.ServiceUnavailable, $"/readyz during the outage: {(int)status} {body}");
        Assert.Contains("PostgreSQL", body);
        using (var list = await http.GetAsync("/v1/documents"))
        {
            var problem = await list.Content.ReadAsStringAsync();
            Assert.True(list.StatusCode == HttpStatusCode.ServiceUnavailable, $"GET /v1/documents during the outage: {(int)list.StatusCode} {problem}");
            Assert.Contains("PostgreSQL", problem);
        }
        using (var search = await http.PostAsJsonAsync("/v1/search", new { query = "anything", mode = "bm25", k = 3 }))
            Assert.True(search.StatusCode == HttpStatusCode.ServiceUnavailable, $"POST /v1/search during the outage: {(int)search.StatusCode} {await search.Content.ReadAsStringAsync()}");
        using (var upload = await http.PostAsJsonAsync("/v1/documents", new { title = "during the outage", text = "Written while the database was down." }))
            Assert.True(upload.StatusCode == HttpStatusCode.ServiceUnavailable, $"an upload during the outage: {(int)upload.StatusCode} {await upload.Content.ReadAsStringAsync()}");

        if (down.Elapsed < Outage) await Task.Delay(Outage - down.Elapsed);
        await cluster.StartServerAsync();
        var up = Stopwatch.StartNew();
        (status, body) = await PollAsync(anonymous, "/readyz", s => s == HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        Assert.True(status == HttpStatusCode.OK, $"/readyz after the outage: {(int)status} {body}");
        figures.ReadyAfterRestartSeconds = Math.Max(figures.ReadyAfterRestartSeconds, up.Elapsed.TotalSeconds);

        // Once ready, requests succeed: none may trip over a pooled connection the restart broke.
        for (var i = 0; i < 20; i++)
        {
            using var list = await http.GetAsync("/v1/documents?limit=5");
            using var search = await http.PostAsJsonAsync("/v1/search", new { query = "river mountain", mode = "bm25", k = 3 });
            foreach (var r in new[] { list, search })
                if (!r.IsSuccessStatusCode) figures.FailedAfterReady.Add($"{r.RequestMessage!.RequestUri!.AbsolutePath} {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }
    }

    static async Task<(HttpStatusCode, string)> PollAsync(HttpClient http, string path, Func<HttpStatusCode, bool> until, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            using var response = await http.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            if (until(response.StatusCode) || DateTime.UtcNow > deadline) return (response.StatusCode, body);
            await Task.Delay(200);
        }
    }

    static async Task<bool> SettleAsync(PostgresCluster cluster, int docs, TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            // Jobs first: a worker marks its document indexed before it completes the job, so once no job is open,
            // a count read afterwards sees every document the finished jobs indexed. (Counted the other way round, the
            // last job could finish between the two reads and leave the drill one document short of a settled run.)
            var open = (long)(await ScalarAsync(cluster, "SELECT count(*) FROM jobs WHERE status IN ('queued', 'leased')"))!;
            var indexed = (long)(await ScalarAsync(cluster, "SELECT count(*) FROM documents WHERE status = 'indexed'"))!;
            if (open == 0) return indexed >= docs; // no job left to run: nothing more can change
            await Task.Delay(250);
        }
        return false;
    }

    /// <summary>The database, read directly, and the Api's search.</summary>
    static async Task CheckAsync(PostgresCluster cluster, HttpClient http, int docs, bool dense, Figures figures)
    {
        var byExternal = await QueryAsync(cluster, "SELECT external_id, id, status FROM documents", r => (External: r.GetString(0), Id: r.GetString(1), Status: r.GetString(2)));
        var groups = byExternal.GroupBy(d => d.External).ToDictionary(g => g.Key, g => g.ToList());
        figures.Lost = Enumerable.Range(0, docs).Count(i => !groups.ContainsKey(ExternalId(i)));
        figures.Duplicated = groups.Values.Sum(g => g.Count - 1);
        figures.Stuck = byExternal.Count(d => d.Status != "indexed")
            + (int)(long)(await ScalarAsync(cluster, "SELECT count(*) FROM jobs WHERE status IN ('queued', 'leased')"))!;
        // A document left without any job (payloads are JSON naming the document id): the upload stored its row, then
        // could not enqueue, and the client's retry found the row and took it for a duplicate. Known; see bench/README.md.
        figures.WithoutJob = (int)(long)(await ScalarAsync(cluster,
            "SELECT count(*) FROM documents d WHERE d.status <> 'indexed' AND NOT EXISTS (SELECT 1 FROM jobs j WHERE strpos(j.payload, d.id) > 0)"))!;
        figures.FailedJobs = (int)(long)(await ScalarAsync(cluster, "SELECT count(*) FROM jobs WHERE status = 'failed'"))!;
        figures.RetriedJobs = (int)(long)(await ScalarAsync(cluster, "SELECT count(*) FROM jobs WHERE attempts > 0"))!;

        // Chunks: as many rows as the document says, ordinals 0..n-1 once each, and the same chunks in BM25.
        figures.ChunkMismatches = (int)(long)(await ScalarAsync(cluster, """
            SELECT count(*) FROM documents d
            LEFT JOIN (SELECT document_id, count(*) AS n, count(DISTINCT ordinal) AS distinct_n, min(ordinal) AS lo, max(ordinal) AS hi
                       FROM chunks GROUP BY document_id) c ON c.document_id = d.id
            LEFT JOIN (SELECT document_id, count(*) AS n FROM bm25_chunks GROUP BY document_id) b ON b.document_id = d.id
            WHERE d.chunk_count < 1 OR c.n IS DISTINCT FROM d.chunk_count OR c.distinct_n IS DISTINCT FROM d.chunk_count
               OR c.lo <> 0 OR c.hi <> d.chunk_count - 1 OR b.n IS DISTINCT FROM d.chunk_count
            """))!;
        figures.DuplicateChunkRows = (int)(long)(await ScalarAsync(cluster,
            "SELECT count(*) FROM (SELECT document_id, ordinal FROM chunks GROUP BY document_id, ordinal HAVING count(*) > 1) x"))!;
        var chunkRows = (long)(await ScalarAsync(cluster, "SELECT count(*) FROM chunks"))!;
        var bm25Chunks = (long)(await ScalarAsync(cluster, "SELECT count(*) FROM bm25_chunks"))!;
        var bm25Stats = (long)(await ScalarAsync(cluster, "SELECT coalesce(sum(chunks), 0)::bigint FROM bm25_stats"))!;
        figures.Chunks = chunkRows;
        figures.Bm25Mismatch = Math.Abs(bm25Chunks - chunkRows) + Math.Abs(bm25Stats - chunkRows);

        for (var i = 0; i < docs; i++)
        {
            if (!groups.TryGetValue(ExternalId(i), out var rows)) { figures.MarkerMisses++; continue; }
            var hits = (await http.SearchAsync(Marker(i), "bm25", k: 3)).Results;
            if (hits.Count == 0 || hits.Any(h => h.DocumentId != rows[0].Id)) figures.MarkerMisses++;
            if (dense && i % 10 == 0)
            {
                var first = DocumentText(i).Split(". ")[1];
                if (!(await http.SearchAsync(first, "dense", k: 5)).Results.Any(h => h.DocumentId == rows[0].Id)) figures.DenseMisses++;
            }
        }
    }

    static readonly string[] Vocabulary =
    [
        "river", "mountain", "harbour", "lantern", "meadow", "copper", "violin", "granite", "orchard", "compass", "glacier", "beacon",
        "market", "falcon", "thunder", "velvet", "pepper", "canyon", "marble", "saddle", "timber", "silver", "window", "garden",
        "ladder", "mirror", "basket", "candle", "forest", "island", "engine", "pillow", "rocket", "shadow", "tunnel", "wizard",
        "anchor", "bridge", "castle", "desert", "feather", "harvest", "jungle", "kettle", "lemon", "needle", "ocean", "puzzle",
    ];

    /// <summary>A unique word the analyser keeps whole: letters only, no stemmable ending.</summary>
    static string Marker(int i)
    {
        var letters = new StringBuilder("drill");
        for (var n = i; ; n /= 26)
        {
            letters.Append((char)('a' + n % 26));
            if (n < 26) break;
        }
        return letters.Append("zq").ToString();
    }

    static string ExternalId(int i) => $"drill-{i}";

    /// <summary>About 400 words of seeded filler (a few chunks) with the marker in the middle.</summary>
    static string DocumentText(int i)
    {
        var random = new Random(1000 + i);
        var text = new StringBuilder($"Drill document {i}. ");
        for (var s = 0; s < 40; s++)
        {
            if (s == 20) text.Append("The marker of this document is ").Append(Marker(i)).Append(". ");
            var words = Enumerable.Range(0, 10).Select(_ => Vocabulary[random.Next(Vocabulary.Length)]).ToArray();
            text.Append(char.ToUpperInvariant(words[0][0])).Append(words[0][1..]).Append(' ').Append(string.Join(' ', words[1..])).Append(". ");
        }
        return text.ToString();
    }

    static async Task<string> AdminKeyAsync(ServiceProcess api)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (AdminKey().Match(api.Output) is { Success: true } m) return m.Groups[1].Value;
            if (DateTime.UtcNow > deadline) throw new InvalidOperationException("the Api printed no admin key" + api.Output);
            await Task.Delay(100);
        }
    }

    [GeneratedRegex(@"Admin API key for tenant 'default' \(shown once, keep it\): (\S+)")]
    private static partial Regex AdminKey();

    /// <summary>No pooling: the test's own connections must not be stale ones from before a restart.</summary>
    static NpgsqlConnection Connect(PostgresCluster cluster) => new(cluster.ConnectionString + ";Pooling=false");

    static async Task<object?> ScalarAsync(PostgresCluster cluster, string sql)
    {
        await using var c = Connect(cluster);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        return await cmd.ExecuteScalarAsync();
    }

    static async Task<List<T>> QueryAsync<T>(PostgresCluster cluster, string sql, Func<NpgsqlDataReader, T> map)
    {
        await using var c = Connect(cluster);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await using var r = await cmd.ExecuteReaderAsync();
        var list = new List<T>();
        while (await r.ReadAsync()) list.Add(map(r));
        return list;
    }

    static string Tail(string text) => text.Length <= 4000 ? text : "\n..." + text[^4000..];

    sealed class Figures
    {
        public int Documents, Kills, KillsMidJob, Restarts, Lost, Duplicated, Stuck, WithoutJob, FailedJobs, RetriedJobs, ChunkMismatches, DuplicateChunkRows, MarkerMisses, DenseMisses, ProcessesDown;
        public long Chunks, Bm25Mismatch;
        public double SettleSeconds, ReadyAfterRestartSeconds;
        public bool Settled;
        public List<string> FailedAfterReady { get; } = [];
        int _unavailable, _serverErrors;

        public int ServerErrors => Volatile.Read(ref _serverErrors);

        int _uploaded;

        public int Uploaded => Volatile.Read(ref _uploaded);

        public void CountUpload() => Interlocked.Increment(ref _uploaded);

        public void Count(HttpStatusCode status)
        {
            if (status == HttpStatusCode.ServiceUnavailable) Interlocked.Increment(ref _unavailable);
            else if ((int)status >= 500) Interlocked.Increment(ref _serverErrors);
        }

        public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"""
            fault drill: {Documents} documents ({Chunks} chunks), {Kills} worker kills ({KillsMidJob} holding a lease), {Restarts} PostgreSQL restarts
              documents lost {Lost}, duplicated {Duplicated}, stuck {Stuck} ({WithoutJob} of them with no job); jobs failed {FailedJobs}, retried {RetriedJobs}
              chunk count mismatches {ChunkMismatches}, duplicate (document, ordinal) rows {DuplicateChunkRows}, BM25 rows off by {Bm25Mismatch}
              marker searches missed {MarkerMisses}, dense misses {DenseMisses}; uploads answered 503 {_unavailable} times, other 5xx {ServerErrors}; requests failed after ready {FailedAfterReady.Count}
              ready again {ReadyAfterRestartSeconds:0.0} s after PostgreSQL started; settled {Settled} {SettleSeconds:0.0} s after the last fault; processes down {ProcessesDown}

            """);
    }
}

/// <summary>A Rag.Ingest worker process (`rag worker` as docker-compose runs it) with a data folder of its own.</summary>
sealed class WorkerProcess : IAsyncDisposable
{
    static readonly string IngestDll = Path.Combine(AppContext.BaseDirectory, "Rag.Ingest.dll");
    readonly Process _process;
    readonly TempDir _data = new();
    readonly StringBuilder _output = new();

    WorkerProcess(IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        foreach (var arg in new[] { IngestDll, "--data", _data.Path, "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Rag.Ingest.IngestWorker=Information" })
            start.ArgumentList.Add(arg);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        Pid = _process.Id;
    }

    public static WorkerProcess Start(IReadOnlyDictionary<string, string> environment) => new(environment);

    public int Pid { get; }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return $"\nworker {Pid} output:\n{_output}"; }
    }

    /// <summary>Waits for the worker's "started" line, which it logs once its stores are open.</summary>
    public async Task WaitStartedAsync()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!Output.Contains($"Ingest worker {Environment.MachineName}:{Pid}:", StringComparison.Ordinal))
        {
            if (HasExited || DateTime.UtcNow > deadline) throw new InvalidOperationException("the worker did not start" + Output);
            await Task.Delay(100);
        }
    }

    /// <summary>SIGKILL: no shutdown grace, its leases are left to expire.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
        _data.Dispose();
    }
}
