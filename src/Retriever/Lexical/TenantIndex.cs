using System.Buffers;
using Rag.Retriever.Storage;

namespace Rag.Retriever.Lexical;

/// <summary>One tenant's inverted index: its own N, avgdl and document frequencies, so tenants never influence each other's scores.</summary>
internal sealed class TenantIndex
{
    internal sealed class DocumentEntry(string[] tags, int[] slots, long logOffset, int logBytes)
    {
        public string[] Tags { get; } = tags;
        public int[] Slots { get; } = slots;
        public long LogOffset { get; set; } = logOffset;
        public int LogBytes { get; } = logBytes;
    }

    /// <summary>A posting list: chunk slots in increasing order with their term frequencies.</summary>
    sealed class Postings
    {
        public int[] Slots = new int[4];
        public int[] Tfs = new int[4];
        public int Count;

        public void Add(int slot, int tf)
        {
            if (Count == Slots.Length)
            {
                Array.Resize(ref Slots, Count * 2);
                Array.Resize(ref Tfs, Count * 2);
            }
            Slots[Count] = slot;
            Tfs[Count++] = tf;
        }

        public void Remove(int slot)
        {
            var i = Array.BinarySearch(Slots, 0, Count, slot);
            if (i < 0) return;
            Array.Copy(Slots, i + 1, Slots, i, Count - i - 1);
            Array.Copy(Tfs, i + 1, Tfs, i, Count - i - 1);
            Count--;
        }
    }

    // Per chunk slot (slots only grow; a deleted chunk's slot stays empty).
    readonly List<string?> chunkIds = [];
    readonly List<string> slotDocuments = [];
    readonly List<int> lengths = [];
    readonly List<int[]> slotTerms = [];       // term ids of the chunk, for removal from postings
    readonly Dictionary<string, int> termIds = new(StringComparer.Ordinal);
    readonly List<Postings> postings = [];
    long totalLength;

    public Dictionary<string, DocumentEntry> Documents { get; } = new(StringComparer.Ordinal);
    public int LiveChunks { get; private set; }

    public void Replace(string documentId, string[] tags, List<(string ChunkId, List<string> Terms)> chunks, long logOffset, int logBytes)
    {
        Remove(documentId);
        var slots = new int[chunks.Count];
        for (var i = 0; i < chunks.Count; i++) slots[i] = AddChunk(documentId, chunks[i].ChunkId, chunks[i].Terms);
        Documents[documentId] = new DocumentEntry(tags, slots, logOffset, logBytes);
    }

    int AddChunk(string documentId, string chunkId, List<string> terms)
    {
        var slot = chunkIds.Count;
        var tf = new Dictionary<int, int>();
        foreach (var term in terms)
        {
            if (!termIds.TryGetValue(term, out var id))
            {
                termIds[term] = id = postings.Count;
                postings.Add(new Postings());
            }
            tf[id] = tf.GetValueOrDefault(id) + 1;
        }
        foreach (var (id, count) in tf) postings[id].Add(slot, count);
        chunkIds.Add(chunkId);
        slotDocuments.Add(documentId);
        lengths.Add(terms.Count);
        slotTerms.Add([.. tf.Keys]);
        totalLength += terms.Count;
        LiveChunks++;
        return slot;
    }

    public void Remove(string documentId)
    {
        if (!Documents.Remove(documentId, out var entry)) return;
        foreach (var slot in entry.Slots)
        {
            foreach (var id in slotTerms[slot]) postings[id].Remove(slot);
            slotTerms[slot] = [];
            chunkIds[slot] = null;
            totalLength -= lengths[slot];
            LiveChunks--;
        }
    }

    public List<ScoredChunk> Search(List<string> queryTerms, SearchFilter filter, int k, float k1, float b)
    {
        var n = LiveChunks;
        if (n == 0) return [];
        var avgdl = (float)totalLength / n;
        var scores = ArrayPool<float>.Shared.Rent(chunkIds.Count);
        Array.Clear(scores, 0, chunkIds.Count); // pooled arrays may come back dirty from other users
        var touched = new List<int>();
        try
        {
            // A repeated query term counts once per occurrence, as a repeated clause would in Lucene.
            foreach (var group in queryTerms.GroupBy(t => t))
            {
                if (!termIds.TryGetValue(group.Key, out var id)) continue;
                var p = postings[id];
                if (p.Count == 0) continue;
                var idf = MathF.Log(1f + (n - p.Count + 0.5f) / (p.Count + 0.5f)) * group.Count();
                for (var i = 0; i < p.Count; i++)
                {
                    var slot = p.Slots[i];
                    float tf = p.Tfs[i];
                    var norm = k1 * (1f - b + b * lengths[slot] / avgdl);
                    var s = idf * tf * (k1 + 1f) / (tf + norm);
                    if (scores[slot] == 0f) touched.Add(slot);
                    scores[slot] += s;
                }
            }
            var documentFilter = filter.DocumentIds is { Count: > 0 } ids ? ids as ISet<string> ?? new HashSet<string>(ids, StringComparer.Ordinal) : null;
            var tagFilter = filter.Tags is { Count: > 0 } tags ? tags : null;
            var top = new TopK(k);
            foreach (var slot in touched)
            {
                var documentId = slotDocuments[slot];
                if (documentFilter is not null && !documentFilter.Contains(documentId)) continue;
                if (tagFilter is not null && !Documents[documentId].Tags.Any(tagFilter.Contains)) continue;
                top.Add(slot, scores[slot]);
            }
            return [.. top.Drain().Select(x => new ScoredChunk(chunkIds[x.Item]!, slotDocuments[x.Item], x.Score))];
        }
        finally { ArrayPool<float>.Shared.Return(scores); }
    }
}
