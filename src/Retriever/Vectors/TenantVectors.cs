using System.Numerics.Tensors;
using Rag.Retriever.Storage;

namespace Rag.Retriever.Vectors;

/// <summary>One tenant's vectors as a dense (rows, dim) matrix; a deleted row is filled by the last row, so rows stay contiguous.</summary>
internal sealed class TenantVectors(int dim)
{
    float[] matrix = new float[dim * 16]; // (capacity, dim), row-major
    readonly List<string> chunkIds = [];
    readonly List<string> documentIds = [];
    readonly List<string[]> tags = [];
    readonly List<long> offsets = [];        // log offset of each row's record, for compaction
    readonly List<int> sizes = [];
    readonly Dictionary<string, int> rowOf = new(StringComparer.Ordinal);

    public int Count => chunkIds.Count;
    public IEnumerable<long> Offsets => offsets;

    /// <summary>Inserts or replaces the chunk's row; returns the log bytes of the record it replaced (0 if new).</summary>
    public int Upsert(string documentId, string chunkId, string[] rowTags, float[] vector, long offset, int bytes)
    {
        if (rowOf.TryGetValue(chunkId, out var row))
        {
            var replaced = sizes[row];
            vector.CopyTo(matrix.AsSpan(row * dim, dim));
            documentIds[row] = documentId;
            tags[row] = rowTags;
            offsets[row] = offset;
            sizes[row] = bytes;
            return replaced;
        }
        row = Count;
        if ((row + 1) * dim > matrix.Length) Array.Resize(ref matrix, matrix.Length * 2);
        vector.CopyTo(matrix.AsSpan(row * dim, dim));
        chunkIds.Add(chunkId);
        documentIds.Add(documentId);
        tags.Add(rowTags);
        offsets.Add(offset);
        sizes.Add(bytes);
        rowOf[chunkId] = row;
        return 0;
    }

    /// <summary>Removes every row of the document; returns the log bytes they held.</summary>
    public long DeleteDocument(string documentId)
    {
        long freed = 0;
        for (var row = Count - 1; row >= 0; row--)
        {
            if (documentIds[row] != documentId) continue;
            freed += sizes[row];
            RemoveRow(row);
        }
        return freed;
    }

    void RemoveRow(int row)
    {
        var last = Count - 1;
        rowOf.Remove(chunkIds[row]);
        if (row != last)
        {
            matrix.AsSpan(last * dim, dim).CopyTo(matrix.AsSpan(row * dim, dim));
            chunkIds[row] = chunkIds[last];
            documentIds[row] = documentIds[last];
            tags[row] = tags[last];
            offsets[row] = offsets[last];
            sizes[row] = sizes[last];
            rowOf[chunkIds[row]] = row;
        }
        chunkIds.RemoveAt(last);
        documentIds.RemoveAt(last);
        tags.RemoveAt(last);
        offsets.RemoveAt(last);
        sizes.RemoveAt(last);
    }

    public void Relocate(Dictionary<long, long> moved)
    {
        for (var i = 0; i < offsets.Count; i++) offsets[i] = moved[offsets[i]];
    }

    public List<ScoredChunk> Search(float[] query, SearchFilter filter, int k)
    {
        var documentFilter = filter.DocumentIds is { Count: > 0 } ids ? ids as ISet<string> ?? new HashSet<string>(ids, StringComparer.Ordinal) : null;
        var tagFilter = filter.Tags is { Count: > 0 } wanted ? wanted : null;
        var top = new TopK(k);
        ReadOnlySpan<float> m = matrix;
        for (var row = 0; row < Count; row++)
        {
            if (documentFilter is not null && !documentFilter.Contains(documentIds[row])) continue;
            if (tagFilter is not null && !tags[row].Any(tagFilter.Contains)) continue;
            top.Add(row, TensorPrimitives.Dot(m.Slice(row * dim, dim), query)); // score = q · x_row
        }
        return [.. top.Drain().Select(x => new ScoredChunk(chunkIds[x.Item], documentIds[x.Item], x.Score))];
    }
}
