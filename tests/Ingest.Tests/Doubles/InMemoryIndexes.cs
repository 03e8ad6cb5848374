using Microsoft.Extensions.AI;
using Rag.Retriever;
using Rag.Tokenizers;

namespace Rag.Ingest.Tests;

/// <summary>Vector index double: keeps records by chunk id, so duplicates would show as extra ids, not overwrite silently.</summary>
public sealed class InMemoryVectorIndex : IVectorIndex
{
    readonly object _gate = new();
    readonly Dictionary<string, VectorRecord> _records = [];
    public int Dimension { get; private set; }
    public int UpsertCalls;
    /// <summary>Throws on this upsert call (1-based) to simulate a crash mid-save; 0 = never.</summary>
    public int FailOnUpsertCall { get; set; }

    public IReadOnlyList<VectorRecord> Records { get { lock (_gate) return _records.Values.ToList(); } }

    public Task EnsureReadyAsync(int dimension, CancellationToken ct = default)
    {
        if (Dimension != 0 && Dimension != dimension) throw new InvalidOperationException("dimension mismatch");
        Dimension = dimension;
        return Task.CompletedTask;
    }

    public Task UpsertAsync(IReadOnlyList<VectorRecord> records, CancellationToken ct = default)
    {
        if (Interlocked.Increment(ref UpsertCalls) == FailOnUpsertCall) throw new IOException("simulated crash during vector upsert");
        lock (_gate) foreach (var r in records) _records[r.ChunkId] = r;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ScoredChunk>> SearchAsync(float[] query, SearchFilter filter, int k, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var hits = _records.Values.Where(r => r.TenantId == filter.TenantId)
                .Select(r => new ScoredChunk(r.ChunkId, r.DocumentId, r.Vector.Zip(query, (a, b) => a * b).Sum()))
                .OrderByDescending(h => h.Score).Take(k).ToList();
            return Task.FromResult<IReadOnlyList<ScoredChunk>>(hits);
        }
    }

    public Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        lock (_gate)
            foreach (var id in _records.Values.Where(r => r.TenantId == tenantId && r.DocumentId == documentId).Select(r => r.ChunkId).ToList())
                _records.Remove(id);
        return Task.CompletedTask;
    }

    public Task<long> CountAsync(string tenantId, CancellationToken ct = default)
    {
        lock (_gate) return Task.FromResult((long)_records.Values.Count(r => r.TenantId == tenantId));
    }
}

public sealed class InMemoryLexicalIndex : ILexicalIndex
{
    readonly object _gate = new();
    readonly Dictionary<(string Tenant, string Doc), LexicalRecord[]> _docs = [];
    public bool FailNext { get; set; }

    public IReadOnlyList<LexicalRecord> Records(string tenantId, string documentId)
    {
        lock (_gate) return _docs.GetValueOrDefault((tenantId, documentId)) ?? [];
    }

    public int DocumentCount { get { lock (_gate) return _docs.Count; } }

    public Task IndexDocumentAsync(string tenantId, string documentId, IReadOnlyList<string> tags, IReadOnlyList<LexicalRecord> chunks, CancellationToken ct = default)
    {
        if (FailNext)
        {
            FailNext = false;
            throw new IOException("simulated crash during lexical indexing");
        }
        lock (_gate) _docs[(tenantId, documentId)] = chunks.ToArray();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<ScoredChunk>> SearchAsync(string query, SearchFilter filter, int k, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var hits = _docs.Where(kv => kv.Key.Tenant == filter.TenantId)
                .SelectMany(kv => kv.Value.Select(r => new ScoredChunk(r.ChunkId, kv.Key.Doc, r.Text.Contains(query, StringComparison.OrdinalIgnoreCase) ? 1f : 0f)))
                .Where(h => h.Score > 0).Take(k).ToList();
            return Task.FromResult<IReadOnlyList<ScoredChunk>>(hits);
        }
    }

    public Task DeleteDocumentAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        lock (_gate) _docs.Remove((tenantId, documentId));
        return Task.CompletedTask;
    }
}

/// <summary>Deterministic 8-dimensional "embeddings" from character statistics; counts the texts it saw.</summary>
public sealed class FakeEmbedder : IEmbeddingGenerator<string, Embedding<float>>
{
    public const int Dimension = 8;
    public int Calls;
    public int MaxBatch;
    public int Texts;

    public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var texts = values.ToList();
        Interlocked.Increment(ref Calls);
        Interlocked.Add(ref Texts, texts.Count);
        MaxBatch = Math.Max(MaxBatch, texts.Count);
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Select(t =>
        {
            var v = new float[Dimension];
            foreach (var c in t) v[c % Dimension] += 1;
            return new Embedding<float>(v);
        }));
        return Task.FromResult(result);
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() { }
}

/// <summary>One token per whitespace-separated word; records the longest text it was asked to count.</summary>
public sealed class WordTokenizer : ITokenizer
{
    public int LongestInput;

    public int VocabularySize => 1000;

    public int[] Encode(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(w => w.Length).ToArray();

    public string Decode(ReadOnlySpan<int> ids) => throw new NotSupportedException("Counting only.");

    public int CountTokens(string text)
    {
        if (text.Length > LongestInput) LongestInput = text.Length;
        var count = 0;
        var inWord = false;
        foreach (var c in text)
        {
            var ws = char.IsWhiteSpace(c);
            if (!ws && !inWord) count++;
            inWord = !ws;
        }
        return count;
    }
}
