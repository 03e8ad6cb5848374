using Microsoft.Extensions.AI;
using Rag.Neural;

namespace Rag.Retriever.Encoders;

/// <summary>
/// A DPR tower (question or context encoder, Karpukhin et al. 2020) as an IEmbeddingGenerator: texts are
/// encoded in batches on the thread pool, so a request thread never runs the model, and cancellation is
/// honoured between batches. The generator owns the model only when told to.
/// </summary>
public sealed class DprEmbeddingGenerator : IEmbeddingGenerator<string, Embedding<float>>
{
    readonly ITextEncoderModel model;
    readonly bool ownsModel;
    readonly EmbeddingGeneratorMetadata metadata;

    /// <param name="modelId">Shown in metadata and on each embedding, e.g. "facebook/dpr-question_encoder-single-nq-base".</param>
    public DprEmbeddingGenerator(ITextEncoderModel model, string modelId, int batchSize = 32, bool ownsModel = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        this.model = model;
        this.ownsModel = ownsModel;
        BatchSize = batchSize;
        ModelId = modelId;
        metadata = new EmbeddingGeneratorMetadata("rag-neural", null, modelId, model.Dimension);
    }

    public int BatchSize { get; }
    public string ModelId { get; }
    public int Dimension => model.Dimension;

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is { } wanted && wanted != model.Dimension)
            throw new NotSupportedException($"{ModelId} produces {model.Dimension}-dimensional embeddings; {wanted} were asked for.");
        var texts = values as IReadOnlyList<string> ?? [.. values];
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var batch = texts.Skip(start).Take(BatchSize).ToArray();
            var vectors = await Task.Run(() => model.Encode(batch, cancellationToken), cancellationToken);
            if (vectors.Length != batch.Length)
                throw new InvalidOperationException($"{ModelId} returned {vectors.Length} vectors for {batch.Length} texts.");
            var now = DateTimeOffset.UtcNow;
            foreach (var v in vectors) result.Add(new Embedding<float>(v) { ModelId = ModelId, CreatedAt = now });
        }
        return result;
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null) return null;
        if (serviceType == typeof(EmbeddingGeneratorMetadata)) return metadata;
        if (serviceType.IsInstanceOfType(this)) return this;
        if (serviceType.IsInstanceOfType(model)) return model;
        return null;
    }

    public void Dispose()
    {
        if (ownsModel) model.Dispose();
    }
}
