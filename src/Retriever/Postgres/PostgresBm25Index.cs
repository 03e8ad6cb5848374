using Npgsql;
using NpgsqlTypes;
using Rag.Retriever.Lexical;

namespace Rag.Retriever.Postgres;

/// <summary>
/// BM25 in PostgreSQL, for server mode: every Api process and ingest worker shares one index instead of
/// local files. The same Okapi BM25 as <see cref="Bm25Index"/> (Lucene's idf, per-tenant statistics, a
/// repeated query term counted per occurrence) over the same analyser, which runs here in .NET, so a
/// query scores alike in both modes. Postings live in the bm25_* tables, created by the store's
/// migrations (src/Storage/Postgres/Migrations/0002_bm25.sql): open the store before this index.
/// </summary>
public sealed class PostgresBm25Index : ILexicalIndex, IAsyncDisposable
{
    readonly NpgsqlDataSource dataSource;
    readonly bool ownsDataSource;
    readonly Bm25Options options;

    public PostgresBm25Index(string connectionString, Bm25Options? options = null)
        : this(NpgsqlDataSource.Create(connectionString), options) => ownsDataSource = true;

    /// <summary>Over a pool that someone else owns and disposes (the store's, in server mode).</summary>
    public PostgresBm25Index(NpgsqlDataSource dataSource, Bm25Options? options = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        this.dataSource = dataSource;
        this.options = options ?? new Bm25Options();
    }

    public async Task IndexDocumentAsync(string tenantId, string documentId, IReadOnlyList<string> tags, IReadOnlyList<LexicalRecord> chunks, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        ArgumentException.ThrowIfNullOrEmpty(documentId);
        // Analyse before opening a transaction: it is the expensive part.
        var lengths = new int[chunks.Count];
        var (terms, termChunks, tfs, termLengths) = (new List<string>(), new List<string>(), new List<int>(), new List<int>());
        for (var i = 0; i < chunks.Count; i++)
        {
            var analysed = options.Analyzer.Analyze(chunks[i].Text);
            lengths[i] = analysed.Count;
            foreach (var group in analysed.GroupBy(t => t, StringComparer.Ordinal))
            {
                terms.Add(group.Key);
                termChunks.Add(chunks[i].ChunkId);
                tfs.Add(group.Count());
                termLengths.Add(analysed.Count);
            }
        }

        await InTransactionAsync(tenantId, documentId, async (c, tx) =>
        {
            await RemoveAsync(c, tx, tenantId, documentId, ct);
            await ExecuteAsync(c, tx, "INSERT INTO bm25_documents (tenant_id, document_id, tags) VALUES ($1, $2, $3)", ct,
                tenantId, documentId, tags.ToArray());
            await ExecuteAsync(c, tx, """
                INSERT INTO bm25_chunks (tenant_id, chunk_id, document_id, length)
                SELECT $1, chunk_id, $2, length FROM unnest($3::text[], $4::int[]) AS c (chunk_id, length)
                """, ct, tenantId, documentId, chunks.Select(x => x.ChunkId).ToArray(), lengths);
            await ExecuteAsync(c, tx, """
                INSERT INTO bm25_postings (tenant_id, term, chunk_id, document_id, tf, length)
                SELECT $1, term, chunk_id, $2, tf, length FROM unnest($3::text[], $4::text[], $5::int[], $6::int[]) AS p (term, chunk_id, tf, length)
                """, ct, tenantId, documentId, terms.ToArray(), termChunks.ToArray(), tfs.ToArray(), termLengths.ToArray());
            await AddToStatisticsAsync(c, tx, tenantId, chunks.Count, lengths.Sum(l => (long)l), ct);
        }, ct);
    }

    public Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default) =>
        InTransactionAsync(tenantId, documentId, (c, tx) => RemoveAsync(c, tx, tenantId, documentId, ct), ct);

    public async Task<IReadOnlyList<ScoredChunk>> SearchAsync(string query, SearchFilter filter, int k, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        if (k <= 0) return [];
        var terms = options.Analyzer.Analyze(query);
        if (terms.Count == 0) return [];

        // score = Σ_t weight(t) · idf(t) · tf·(k1 + 1) / (tf + k1·(1 − b + b·|d|/avgdl)),  idf(t) = ln(1 + (N − df + 0.5)/(df + 0.5)).
        // idf is computed once per query term; the sum then reads postings alone. All in float8 (numeric is slow).
        var sql = $"""
            WITH stats AS (SELECT chunks::float8 AS n, total_length::float8 / chunks AS avgdl FROM bm25_stats WHERE tenant_id = $1 AND chunks > 0),
                 q AS (SELECT term, count(*)::float8 AS weight FROM unnest($2::text[]) AS term GROUP BY term),
                 idf AS (SELECT q.term, q.weight * ln(1 + (s.n - d.df + 0.5) / (d.df + 0.5)) AS w
                         FROM q CROSS JOIN stats s
                              CROSS JOIN LATERAL (SELECT count(*)::float8 AS df FROM bm25_postings p WHERE p.tenant_id = $1 AND p.term = q.term) d
                         WHERE d.df > 0)
            SELECT p.chunk_id, p.document_id, sum(i.w * p.tf * ($3 + 1) / (p.tf + $3 * (1 - $4 + $4 * p.length / s.avgdl))) AS score
            FROM idf i JOIN bm25_postings p ON p.tenant_id = $1 AND p.term = i.term
                 CROSS JOIN stats s
                 {(filter.Tags is { Count: > 0 } ? "JOIN bm25_documents d ON d.tenant_id = $1 AND d.document_id = p.document_id AND d.tags && $6" : "")}
            {(filter.DocumentIds is { Count: > 0 } ? "WHERE p.document_id = ANY($7)" : "")}
            GROUP BY p.chunk_id, p.document_id
            ORDER BY score DESC, p.chunk_id
            LIMIT $5
            """;
        await using var c = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(sql, c);
        Bind(cmd, filter.TenantId, terms.ToArray(), (double)options.K1, (double)options.B, k,
            filter.Tags?.ToArray() ?? [], filter.DocumentIds?.ToArray() ?? []);
        var results = new List<ScoredChunk>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
            results.Add(new ScoredChunk(reader.GetString(0), reader.GetString(1), (float)reader.GetDouble(2)));
        return results;
    }

    /// <summary>Live chunks of the tenant.</summary>
    public async Task<long> CountAsync(string tenantId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var cmd = new NpgsqlCommand("SELECT coalesce((SELECT chunks FROM bm25_stats WHERE tenant_id = $1), 0)", c);
        Bind(cmd, tenantId);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    // A document's chunks go (postings follow by cascade) and the tenant's statistics lose them.
    static async Task RemoveAsync(NpgsqlConnection c, NpgsqlTransaction tx, string tenantId, string documentId, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("""
            WITH gone AS (DELETE FROM bm25_chunks WHERE tenant_id = $1 AND document_id = $2 RETURNING length)
            SELECT count(*), coalesce(sum(length), 0)::bigint FROM gone
            """, c, tx);
        Bind(cmd, tenantId, documentId);
        long chunks, length;
        await using (var reader = await cmd.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            (chunks, length) = (reader.GetInt64(0), reader.GetInt64(1));
        }
        await ExecuteAsync(c, tx, "DELETE FROM bm25_documents WHERE tenant_id = $1 AND document_id = $2", ct, tenantId, documentId);
        if (chunks > 0) await AddToStatisticsAsync(c, tx, tenantId, -chunks, -length, ct);
    }

    static Task AddToStatisticsAsync(NpgsqlConnection c, NpgsqlTransaction tx, string tenantId, long chunks, long length, CancellationToken ct) =>
        ExecuteAsync(c, tx, """
            INSERT INTO bm25_stats (tenant_id, chunks, total_length) VALUES ($1, $2, $3)
            ON CONFLICT (tenant_id) DO UPDATE SET chunks = bm25_stats.chunks + excluded.chunks,
                                                  total_length = bm25_stats.total_length + excluded.total_length
            """, ct, tenantId, chunks, length);

    /// <summary>One transaction per document write, serialised per document (two workers re-indexing it never interleave).</summary>
    async Task InTransactionAsync(string tenantId, string documentId, Func<NpgsqlConnection, NpgsqlTransaction, Task> work, CancellationToken ct)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await ExecuteAsync(c, tx, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ct, tenantId + "\n" + documentId);
        await work(c, tx);
        // The commit ignores the caller's token: a cancelled request never reports failure for a write that was committed.
        await tx.CommitAsync(CancellationToken.None);
    }

    async Task<NpgsqlConnection> OpenAsync(CancellationToken ct)
    {
        try { return await dataSource.OpenConnectionAsync(ct); }
        catch (NpgsqlException e) { throw new Rag.Storage.StorageUnavailableException($"The BM25 index in PostgreSQL is unavailable: {e.Message}", e); }
    }

    static async Task ExecuteAsync(NpgsqlConnection c, NpgsqlTransaction tx, string sql, CancellationToken ct, params object[] values)
    {
        await using var cmd = new NpgsqlCommand(sql, c, tx);
        Bind(cmd, values);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    static void Bind(NpgsqlCommand cmd, params object[] values)
    {
        foreach (var value in values)
            cmd.Parameters.Add(value is string[] strings
                ? new NpgsqlParameter { Value = strings, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text }
                : new NpgsqlParameter { Value = value });
    }

    public ValueTask DisposeAsync() => ownsDataSource ? dataSource.DisposeAsync() : ValueTask.CompletedTask;
}
