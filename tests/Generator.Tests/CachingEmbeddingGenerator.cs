using System.Collections.Concurrent;
using Microsoft.Extensions.AI;

namespace Rag.Generator.Tests;

/// <summary>Embeds each distinct text once, so a sweep over blend weights pays for the encoder once.</summary>
sealed class CachingEmbeddingGenerator(IEmbeddingGenerator<string, Embedding<float>> inner) : IEmbeddingGenerator<string, Embedding<float>>
{
    readonly ConcurrentDictionary<string, Embedding<float>> cache = new(StringComparer.Ordinal);

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        var texts = values.ToList();
        var missing = texts.Where(t => !cache.ContainsKey(t)).Distinct().ToList();
        if (missing.Count > 0)
        {
            var embedded = await inner.GenerateAsync(missing, options, cancellationToken);
            for (var i = 0; i < missing.Count; i++) cache[missing[i]] = embedded[i];
        }
        return new GeneratedEmbeddings<Embedding<float>>(texts.Select(t => cache[t]));
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => inner.GetService(serviceType, serviceKey);

    public void Dispose() => inner.Dispose();
}
