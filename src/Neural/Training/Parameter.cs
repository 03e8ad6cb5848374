using Rag.Neural.Tensors;

namespace Rag.Neural.Training;

/// <summary>
/// A trainable tensor under its checkpoint name, with its gradient (same shape, accumulated by backward ops).
/// Decay is false for biases and LayerNorm parameters, which AdamW leaves undecayed (as BERT's recipe does).
/// </summary>
public sealed class Parameter(string name, Tensor value, Tensor grad, bool decay)
{
    public string Name { get; } = name;
    public Tensor Value { get; } = value;
    public Tensor Grad { get; } = grad;
    public bool Decay { get; } = decay;

    public override string ToString() => $"{Name} [{string.Join(", ", Value.Shape)}]";
}
