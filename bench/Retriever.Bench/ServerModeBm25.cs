using System.Diagnostics;
using Npgsql;
using Rag.Retriever;
using Rag.Retriever.Lexical;
using Rag.Retriever.Postgres;
using Rag.Storage.Postgres;

/// <summary>Server mode's BM25 against the embedded index on the same SQuAD corpus: recall, and median latency of one query.</summary>
static class ServerModeBm25
{
    public static async Task RunAsync(string connectionString, List<string> paragraphs, List<(string Question, int Paragraph)> questions)
    {
        var schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
        await ExecuteAsync(connectionString, $"CREATE SCHEMA {schema}");
        var scoped = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = schema }.ConnectionString;
        var blobs = Directory.CreateTempSubdirectory("rag-bench-").FullName;
        try
        {
            await using var store = await PostgresRagStore.OpenAsync(scoped, blobs); // its migrations create the bm25_* tables
            await using var server = new PostgresBm25Index(scoped);
            using var embedded = Bm25Index.CreateInMemory();
            var build = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, paragraphs.Count), new ParallelOptions { MaxDegreeOfParallelism = 4 },
                (i, ct) => new ValueTask(server.IndexDocumentAsync("squad", $"p{i}", [], [new LexicalRecord($"p{i}:0", paragraphs[i])], ct)));
            build.Stop();
            for (var i = 0; i < paragraphs.Count; i++)
                await embedded.IndexDocumentAsync("squad", $"p{i}", [], [new LexicalRecord($"p{i}:0", paragraphs[i])]);

            // One query at a time, alternating the two indexes, so both see the same machine load.
            var (serverMs, embeddedMs) = (new List<double>(), new List<double>());
            int top5 = 0, top20 = 0;
            foreach (var (question, paragraph) in questions)
            {
                var clock = Stopwatch.StartNew();
                var hits = await server.SearchAsync(question, new SearchFilter("squad"), 20);
                serverMs.Add(clock.Elapsed.TotalMilliseconds);
                clock.Restart();
                await embedded.SearchAsync(question, new SearchFilter("squad"), 20);
                embeddedMs.Add(clock.Elapsed.TotalMilliseconds);
                var rank = hits.Select(h => h.DocumentId).ToList().IndexOf($"p{paragraph}");
                if (rank is >= 0 and < 5) top5++;
                if (rank >= 0) top20++;
            }
            double n = questions.Count;
            var (ms, me) = (Median(serverMs), Median(embeddedMs));
            Console.WriteLine($"BM25 in PostgreSQL (server mode)        recall@5 {top5 / n:F3}  @20 {top20 / n:F3}  " +
                              $"index {build.Elapsed.TotalSeconds:F2} s (4 writers); median query {ms:F2} ms vs embedded {me:F3} ms (ratio {ms / me:F0}x)");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(connectionString, $"DROP SCHEMA {schema} CASCADE");
            Directory.Delete(blobs, recursive: true);
        }
    }

    static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[values.Count / 2 - 1] + values[values.Count / 2]) / 2;
    }

    static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var c = new NpgsqlConnection(connectionString);
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, c);
        await cmd.ExecuteNonQueryAsync();
    }
}
