using Microsoft.Extensions.AI;
using Rag.Neural;

namespace Rag.Retriever.Encoders;

/// <summary>What a tower embeds: questions get the model's query prompt, passages its document prompt.</summary>
public enum EmbeddingInput { Document, Query }

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

    readonly string prompt;

    /// <param name="modelId">Shown in metadata and on each embedding, e.g. "facebook/dpr-question_encoder-single-nq-base".</param>
    /// <param name="input">Questions or passages: picks which of the model's prompts is prepended to every text.</param>
    public DprEmbeddingGenerator(ITextEncoderModel model, string modelId, int batchSize = 32, bool ownsModel = true, EmbeddingInput input = EmbeddingInput.Document)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        this.model = model;
        this.ownsModel = ownsModel;
        BatchSize = batchSize;
        ModelId = modelId;
        Input = input;
        prompt = input == EmbeddingInput.Query ? model.Prompts.Query : model.Prompts.Document;
        metadata = new EmbeddingGeneratorMetadata("rag-neural", null, modelId, model.Dimension);
    }

    public int BatchSize { get; }
    public EmbeddingInput Input { get; }
    public string ModelId { get; }
    public int Dimension => model.Dimension;

    public async Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (options?.Dimensions is { } wanted && wanted != model.Dimension)
            throw new NotSupportedException($"{ModelId} produces {model.Dimension}-dimensional embeddings; {wanted} were asked for.");
        var texts = values as IReadOnlyList<string> ?? [.. values];
        // Batches of similar length (by characters, a proxy for tokens), so little compute goes to padding;
        // the embeddings come back in the order given.
        var order = Enumerable.Range(0, texts.Count).OrderBy(i => texts[i].Length).ToArray();
        var vectorsInOrder = new float[texts.Count][];
        for (var start = 0; start < texts.Count; start += BatchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var indices = order.AsSpan(start, Math.Min(BatchSize, texts.Count - start)).ToArray();
            var batch = indices.Select(i => prompt + texts[i]).ToArray();
            var vectors = await Task.Run(() => model.Encode(batch, cancellationToken), cancellationToken);
            if (vectors.Length != batch.Length)
                throw new InvalidOperationException($"{ModelId} returned {vectors.Length} vectors for {batch.Length} texts.");
            for (var j = 0; j < indices.Length; j++) vectorsInOrder[indices[j]] = vectors[j];
        }
        var now = DateTimeOffset.UtcNow;
        var result = new GeneratedEmbeddings<Embedding<float>>(texts.Count);
        foreach (var v in vectorsInOrder) result.Add(new Embedding<float>(v) { ModelId = ModelId, CreatedAt = now });
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
