using Microsoft.Extensions.AI;

namespace Rag.Retriever.Encoders;

/// <summary>
/// Remembers the embeddings of the last few texts it was asked for (least recently used out first). One question is
/// embedded by the retriever and again, moments later, by the extractive answerer's sentence ranking; behind this
/// cache the second asks costs a dictionary lookup instead of a forward pass. Embeddings are deterministic, so a
/// remembered one is the one the model would give; calls that set options are passed through uncached.
/// </summary>
public sealed class RecentEmbeddingsCache(IEmbeddingGenerator<string, Embedding<float>> inner, int capacity = 64)
    : DelegatingEmbeddingGenerator<string, Embedding<float>>(inner)
{
    readonly int _capacity = capacity >= 1 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "at least one entry");
    readonly Dictionary<string, LinkedListNode<(string Text, Embedding<float> Embedding)>> _entries = new(StringComparer.Ordinal);
    readonly LinkedList<(string Text, Embedding<float> Embedding)> _recency = new();
    readonly Lock _gate = new();

    public int Count { get { lock (_gate) return _entries.Count; } }

    public override async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(
        IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options is not null) return await base.GenerateAsync(values, options, cancellationToken).ConfigureAwait(false);
        var texts = values as IReadOnlyList<string> ?? [.. values];
        var found = new Embedding<float>?[texts.Count];
        var missing = new List<string>();
        lock (_gate)
        {
            for (var i = 0; i < texts.Count; i++)
            {
                if (_entries.TryGetValue(texts[i], out var node))
                {
                    _recency.Remove(node);
                    _recency.AddFirst(node);
                    found[i] = node.Value.Embedding;
                }
                else missing.Add(texts[i]);
            }
        }
        if (missing.Count > 0)
        {
            var distinct = missing.Distinct(StringComparer.Ordinal).ToList();
            var computed = await base.GenerateAsync(distinct, null, cancellationToken).ConfigureAwait(false);
            var byText = new Dictionary<string, Embedding<float>>(StringComparer.Ordinal);
            for (var j = 0; j < distinct.Count; j++) byText[distinct[j]] = computed[j];
            lock (_gate)
                foreach (var (text, embedding) in byText) Remember(text, embedding);
            for (var i = 0; i < texts.Count; i++) found[i] ??= byText[texts[i]];
        }
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        foreach (var e in found) result.Add(e!);
        return result;
    }

    void Remember(string text, Embedding<float> embedding)
    {
        if (_entries.TryGetValue(text, out var existing)) _recency.Remove(existing);
        var node = _recency.AddFirst((text, embedding));
        _entries[text] = node;
        while (_entries.Count > _capacity)
        {
            var oldest = _recency.Last!;
            _recency.RemoveLast();
            _entries.Remove(oldest.Value.Text);
        }
    }
}
