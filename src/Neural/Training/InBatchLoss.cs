using Rag.Neural.Tensors;

namespace Rag.Neural.Training;

/// <summary>
/// DPR's objective (Karpukhin et al. 2020): question i's positive is passage i among all M passages of the batch
/// (the other questions' positives, then any hard negatives, are its negatives); the loss is the mean cross-entropy of
/// softmax(scale * Q P^T) against those positives. scale is 1 for dot-product towers and 1 / temperature for
/// normalised (cosine) towers.
/// </summary>
public sealed class InBatchLoss(IBackend? ops = null, ITrainingOps? train = null)
{
    readonly IBackend _ops = ops ?? CpuBackend.Instance;
    readonly ITrainingOps _train = train ?? CpuTrainingOps.Instance;
    Tensor? _scores, _dScores;
    int[] _targets = [];

    /// <summary>Loss for q (B, d) against p (M, d), M >= B; writes dq (B, d) and dp (M, d).</summary>
    public float ForwardBackward(Tensor q, Tensor p, float scale, Tensor dq, Tensor dp)
    {
        int b = q.Dim(0), m = p.Dim(0);
        if (m < b) throw new ArgumentException($"{m} passages for {b} questions: each question needs its positive");
        if (q.Dim(1) != p.Dim(1)) throw new ArgumentException($"question vectors of {q.Dim(1)} dimensions but passage vectors of {p.Dim(1)}");
        if (_scores is null || _scores.Length < b * m)
        {
            _scores = _ops.Allocate(b * m);
            _dScores = _ops.Allocate(b * m);
        }
        var scores = _scores.Slice(0, b * m).Reshape(b, m);
        var dScores = _dScores!.Slice(0, b * m).Reshape(b, m);
        if (_targets.Length != b) _targets = Enumerable.Range(0, b).ToArray();
        _ops.MatMul(q, p, scores, transposeB: true);    // (B, M) = Q P^T
        _train.Scale(scores, scale);
        float loss = _train.SoftmaxCrossEntropy(scores, _targets, dScores);
        _train.Scale(dScores, scale);
        _ops.MatMul(dScores, p, dq);                     // dQ (B, d) = dS P
        _ops.MatMul(dScores, q, dp, transposeA: true);   // dP (M, d) = dS^T Q
        return loss;
    }
}
