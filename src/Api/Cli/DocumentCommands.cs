using System.CommandLine;
using Microsoft.Extensions.FileSystemGlobbing;
using Rag.Hosting;
using Rag.Ingest;
using Rag.Storage;
using Spectre.Console;

namespace Rag.Api.Cli;

static class DocumentCommands
{
    public static Command Ingest()
    {
        var ingest = new Command("ingest", "Ingest files: a file, a folder (recursively) or a glob such as 'docs/**/*.md'.");
        var path = new Argument<string>("path") { Description = "File, folder or glob." };
        ingest.Arguments.Add(path);
        ingest.Options.Add(CliHost.Tenant);
        ingest.SetAction((parse, ct) => CliHost.RunAsync(parse,
            throughService: (client, services, token) => IngestAsync(services, parse, parse.GetValue(path)!,
                submit: async (tenantId, batch, t) => (await client.UploadAsync(tenantId, batch, t))
                    .Select((r, i) => new Submitted(batch[i], r.Document?.Id, r.Detail)).ToList(),
                // The service's worker ingests them: watch the store until each is indexed or failed.
                step: async t =>
                {
                    await Task.Delay(250, t);
                    return true;
                }, token),
            alone: (services, token) =>
            {
                var ingestion = services.GetRequiredService<DocumentIngestion>();
                var worker = services.GetRequiredService<IngestWorker>();
                return IngestAsync(services, parse, parse.GetValue(path)!,
                    submit: async (tenantId, batch, t) =>
                    {
                        var submitted = new List<Submitted>();
                        foreach (var file in batch)
                        {
                            try
                            {
                                await using var stream = File.OpenRead(file);
                                var result = await ingestion.SubmitAsync(tenantId, new DocumentUpload(Path.GetFileName(file), null, stream), t);
                                submitted.Add(new Submitted(file, result.Document.Id, null));
                            }
                            catch (IngestRejectedException e)
                            {
                                submitted.Add(new Submitted(file, null, e.Message));
                            }
                        }
                        return submitted;
                    },
                    // The same worker the service runs, in this process, until the queue is empty.
                    step: worker.RunOnceAsync, token);
            }, ct));
        return ingest;
    }

    sealed record Submitted(string File, string? Id, string? Error);

    // Files per upload request when going through the service: few requests for a folder, each well under the body limit.
    const int BatchFiles = 32;
    const long BatchBytes = 8L * 1024 * 1024;

    /// <summary>
    /// Submits the files in batches (a progress bar), then runs <paramref name="step"/> (false: nothing left to do) until every
    /// submitted document is indexed or failed, and shows one row per file.
    /// </summary>
    static async Task<int> IngestAsync(IServiceProvider services, ParseResult parse, string path,
        Func<string, IReadOnlyList<string>, CancellationToken, Task<List<Submitted>>> submit, Func<CancellationToken, Task<bool>> step, CancellationToken ct)
    {
        var files = ExpandPath(path, services.GetRequiredService<ExtractorRegistry>());
        if (files.Count == 0) throw new CliException($"No supported files match '{path}'.");
        var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: true, ct);
        var store = services.GetRequiredService<IRagStore>();
        var submitted = new List<Submitted>();

        await AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var upload = progress.AddTask("upload", maxValue: files.Count);
                foreach (var batch in Batches(files))
                {
                    submitted.AddRange(await submit(tenant.Id, batch, ct));
                    upload.Increment(batch.Count);
                }
                var ids = submitted.Where(s => s.Id is not null).Select(s => s.Id!).Distinct().ToList();
                var index = progress.AddTask("index", maxValue: Math.Max(1, ids.Count));
                var refreshed = DateTime.MinValue;
                var clock = System.Diagnostics.Stopwatch.StartNew();
                while (ids.Count > 0)
                {
                    var more = await step(ct);
                    // One batched read, at most twice a second: not a read of every document after every job.
                    if (more && DateTime.UtcNow - refreshed < TimeSpan.FromMilliseconds(500)) continue;
                    refreshed = DateTime.UtcNow;
                    var read = (await store.Documents.GetManyAsync(tenant.Id, ids, ct)).Values;
                    var done = read.Count(d => d.Status is DocumentStatus.Indexed or DocumentStatus.Failed);
                    var passages = read.Where(d => d.Status == DocumentStatus.Indexed).Sum(d => d.ChunkCount);
                    index.Description = $"index ({passages / Math.Max(clock.Elapsed.TotalSeconds, 1e-3):F1} passages/s)";
                    index.Value = done;
                    if (!more || done == ids.Count) break;
                }
                index.Value = index.MaxValue;
            });

        var table = new Table().AddColumns("file", "status", "chunks", "error");
        var failures = 0;
        var documents = await store.Documents.GetManyAsync(tenant.Id, submitted.Where(s => s.Id is not null).Select(s => s.Id!).ToList(), ct);
        foreach (var (file, id, error) in submitted)
        {
            var doc = id is null ? null : documents.GetValueOrDefault(id);
            var status = doc?.Status.ToString().ToLowerInvariant() ?? "refused";
            if (doc?.Status is not DocumentStatus.Indexed) failures++;
            table.AddRow(Markup.Escape(file), status, doc?.ChunkCount.ToString() ?? "", Markup.Escape(error ?? doc?.Error ?? ""));
        }
        AnsiConsole.Write(table);
        return failures == 0 ? 0 : 2;
    }

    static IEnumerable<IReadOnlyList<string>> Batches(IReadOnlyList<string> files)
    {
        var batch = new List<string>();
        long bytes = 0;
        foreach (var file in files)
        {
            var size = new FileInfo(file).Length;
            if (batch.Count > 0 && (batch.Count == BatchFiles || bytes + size > BatchBytes))
            {
                yield return batch;
                batch = new List<string>();
                bytes = 0;
            }
            batch.Add(file);
            bytes += size;
        }
        if (batch.Count > 0) yield return batch;
    }

    static async Task<int> DeleteAsync(IServiceProvider services, ParseResult parse, string documentId,
        Func<string, string, CancellationToken, Task<bool>> delete, CancellationToken ct)
    {
        var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, ct);
        if (!await delete(tenant.Id, documentId, ct)) throw new CliException($"No document '{documentId}' in tenant '{tenant.Name}'.");
        Console.WriteLine($"Deleted {documentId}.");
        return 0;
    }

    /// <summary>A file as given; a folder's supported files, recursively; or the matches of a glob.</summary>
    internal static IReadOnlyList<string> ExpandPath(string path, ExtractorRegistry extractors)
    {
        if (File.Exists(path)) return [Path.GetFullPath(path)];
        bool Supported(string f) => extractors.Resolve(f, null, []) is not null;
        if (Directory.Exists(path))
            return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories).Where(Supported).Order().ToList();
        if (path.IndexOfAny(['*', '?']) < 0) throw new CliException($"'{path}' is neither a file, a folder nor a glob.");

        // Split the glob at its first wildcard segment: the part before is the folder to search.
        var parts = path.Replace('\\', '/').Split('/');
        var firstWild = Array.FindIndex(parts, p => p.IndexOfAny(['*', '?']) >= 0);
        var root = firstWild == 0 ? "." : string.Join('/', parts[..firstWild]);
        if (root.Length == 0) root = "/";
        var matcher = new Matcher().AddInclude(string.Join('/', parts[firstWild..]));
        return matcher.GetResultsInFullPath(root).Where(Supported).Order().ToList();
    }

    public static Command Docs()
    {
        var docs = new Command("docs", "List, delete or re-ingest documents.");
        var list = new Command("list", "List the tenant's documents.");
        list.Options.Add(CliHost.Tenant);
        list.SetAction((parse, ct) => CliHost.RunAsync(parse, async (services, token) =>
        {
            var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, token);
            var store = services.GetRequiredService<IRagStore>();
            var table = new Table().AddColumns("id", "title", "status", "chunks", "size", "updated");
            for (var offset = 0; ; offset += 200)
            {
                var page = await store.Documents.ListAsync(tenant.Id, offset, 200, null, token);
                foreach (var d in page.Items)
                    table.AddRow(d.Id, Markup.Escape(d.Title), d.Status.ToString().ToLowerInvariant() + (d.Error is null ? "" : ": " + Markup.Escape(d.Error)),
                        d.ChunkCount.ToString(), $"{d.SizeBytes:N0}", d.UpdatedAt.ToString("u"));
                if (offset + page.Items.Count >= page.Total || page.Items.Count == 0) break;
            }
            AnsiConsole.Write(table);
            return 0;
        }, ct, RuntimeRole.Metadata));

        var delete = new Command("delete", "Delete a document from every index.");
        var id = new Argument<string>("id") { Description = "The document id." };
        delete.Arguments.Add(id);
        delete.Options.Add(CliHost.Tenant);
        delete.SetAction((parse, ct) => CliHost.RunAsync(parse,
            throughService: (client, services, token) => DeleteAsync(services, parse, parse.GetValue(id)!, client.DeleteAsync, token),
            alone: (services, token) => DeleteAsync(services, parse, parse.GetValue(id)!, services.GetRequiredService<DocumentIngestion>().DeleteAsync, token),
            ct));

        docs.Subcommands.Add(list);
        docs.Subcommands.Add(delete);
        docs.Subcommands.Add(Reingest());
        return docs;
    }

    /// <summary>
    /// Queues documents for ingestion again. Only queues: this process runs no worker, so the jobs wait for the service
    /// (or `rag worker --drain`); the stored chunks keep serving until each job replaces them.
    /// </summary>
    static Command Reingest()
    {
        var reingest = new Command("reingest", "Queue a document (or --all, optionally --status failed) for ingestion again.");
        var id = new Argument<string?>("id") { Description = "The document id.", Arity = ArgumentArity.ZeroOrOne };
        var all = new Option<bool>("--all") { Description = "Every document of the tenant." };
        var status = new Option<string?>("--status") { Description = "With --all: only documents with this status (queued, processing, indexed, failed)." };
        reingest.Arguments.Add(id);
        reingest.Options.Add(all);
        reingest.Options.Add(status);
        reingest.Options.Add(CliHost.Tenant);
        reingest.SetAction((parse, ct) =>
        {
            // Argument mistakes are caught before the data folder (and any model) is opened.
            var (documentId, everything, statusText) = (parse.GetValue(id), parse.GetValue(all), parse.GetValue(status));
            var knownStatus = Apis.DocumentsApi.TryParseStatus(statusText, out var only);
            var mistake =
                documentId is not null && everything ? "Give either a document ID or --all, not both."
                : documentId is null && !everything ? "Give a document ID, or --all for every document."
                : statusText is not null && !everything ? "--status goes with --all."
                : !knownStatus ? Apis.DocumentsApi.UnknownStatusMessage(statusText!)
                : null;
            if (mistake is not null)
            {
                Console.Error.WriteLine($"rag: {mistake}");
                return Task.FromResult(1);
            }

            return CliHost.RunAsync(parse,
                throughService: (client, services, token) => ReingestAsync(services, parse, documentId, only,
                    client.ReingestAsync, (tenantId, _, t) => client.ReingestAllAsync(tenantId, statusText, t), token),
                alone: (services, token) =>
                {
                    var ingestion = services.GetRequiredService<DocumentIngestion>();
                    return ReingestAsync(services, parse, documentId, only, ingestion.ReingestAsync, ingestion.ReingestAllAsync, token);
                }, ct);
        });
        return reingest;
    }

    static async Task<int> ReingestAsync(IServiceProvider services, ParseResult parse, string? documentId, DocumentStatus? only,
        Func<string, string, CancellationToken, Task<string?>> one, Func<string, DocumentStatus?, CancellationToken, Task<int>> all, CancellationToken ct)
    {
        var tenant = await CliHost.TenantAsync(services, parse.GetValue(CliHost.Tenant)!, create: false, ct);
        if (documentId is not null)
        {
            var jobId = await one(tenant.Id, documentId, ct) ?? throw new CliException($"No document '{documentId}' in tenant '{tenant.Name}'.");
            Console.WriteLine($"Queued {documentId} for ingestion again (job {jobId}).");
        }
        else
        {
            var queued = await all(tenant.Id, only, ct);
            var which = only is null ? "" : $" {only.Value.ToString().ToLowerInvariant()}";
            Console.WriteLine($"Queued {queued}{which} document(s) of tenant '{tenant.Name}' for ingestion again.");
            if (queued == 0) return 0;
        }
        Console.WriteLine("The running service ingests them (start it if it is stopped), or run now: rag worker --drain");
        return 0;
    }
}
