namespace Rag.Retriever.Storage;

/// <summary>
/// The k best (score, item) pairs seen so far, kept in a bounded min-heap: the root is the weakest
/// of the current top k, so each new candidate costs one comparison, and log k only when it enters.
/// </summary>
internal sealed class TopK
{
    readonly int k;
    readonly PriorityQueue<int, (float Score, int Tiebreak)> heap;

    public TopK(int k)
    {
        this.k = k;
        heap = new PriorityQueue<int, (float, int)>(k + 1, Comparer);
    }

    // Lower score is "smaller"; on equal scores the later item is smaller, so earlier items win ties.
    static readonly Comparer<(float Score, int Tiebreak)> Comparer = Comparer<(float Score, int Tiebreak)>.Create(
        (a, b) => a.Score != b.Score ? a.Score.CompareTo(b.Score) : b.Tiebreak.CompareTo(a.Tiebreak));

    public void Add(int item, float score)
    {
        if (k <= 0) return;
        if (heap.Count < k) { heap.Enqueue(item, (score, item)); return; }
        heap.TryPeek(out _, out var weakest);
        if (Comparer.Compare((score, item), weakest) > 0) heap.DequeueEnqueue(item, (score, item));
    }

    /// <summary>Items best first.</summary>
    public List<(int Item, float Score)> Drain()
    {
        var result = new List<(int, float)>(heap.Count);
        while (heap.TryDequeue(out var item, out var p)) result.Add((item, p.Score));
        result.Reverse();
        return result;
    }
}
