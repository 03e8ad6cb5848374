using Rag.Neural.Tensors;

namespace Rag.Neural.Training;

/// <summary>AdamW settings; the defaults are BERT fine-tuning's usual ones.</summary>
public sealed record AdamWOptions
{
    public float LearningRate { get; init; } = 2e-5f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public float Epsilon { get; init; } = 1e-8f;
    public float WeightDecay { get; init; } = 0.01f;
    /// <summary>Steps of linear warm-up from 0 to the learning rate; then linear decay to 0 at TotalSteps.</summary>
    public int WarmupSteps { get; init; }
    public int TotalSteps { get; init; } = 1;
    /// <summary>Global gradient L2 norm above which all gradients are scaled down (0 disables).</summary>
    public float MaxGradNorm { get; init; } = 1f;
}

/// <summary>
/// AdamW over a list of parameters with their moments, a linear warm-up/decay schedule and global gradient-norm
/// clipping (torch.nn.utils.clip_grad_norm_). Decay applies to the parameters that ask for it.
/// </summary>
public sealed class AdamWOptimizer
{
    readonly ITrainingOps _train;
    readonly IBackend _ops;

    public IReadOnlyList<Parameter> Parameters { get; }
    public AdamWOptions Options { get; }
    public IReadOnlyList<Tensor> FirstMoments { get; }
    public IReadOnlyList<Tensor> SecondMoments { get; }
    /// <summary>Updates taken so far.</summary>
    public int Step { get; set; }

    public AdamWOptimizer(IReadOnlyList<Parameter> parameters, AdamWOptions options, IBackend? ops = null, ITrainingOps? train = null)
    {
        if (options.TotalSteps < 1) throw new ArgumentOutOfRangeException(nameof(options), "total steps must be at least 1");
        if (options.WarmupSteps < 0 || options.WarmupSteps > options.TotalSteps) throw new ArgumentOutOfRangeException(nameof(options), "warm-up steps must be between 0 and the total steps");
        _ops = ops ?? CpuBackend.Instance;
        _train = train ?? CpuTrainingOps.Instance;
        Parameters = parameters;
        Options = options;
        FirstMoments = parameters.Select(p => _ops.Allocate(p.Value.Shape)).ToArray();
        SecondMoments = parameters.Select(p => _ops.Allocate(p.Value.Shape)).ToArray();
    }

    /// <summary>
    /// Learning rate of update number step (1-based): warm-up step/W, then (T - step)/(T - W). This is Hugging Face's
    /// get_linear_schedule_with_warmup shifted by one, so the first update is not spent at rate 0.
    /// </summary>
    public float LearningRateAt(int step)
    {
        int w = Options.WarmupSteps, t = Options.TotalSteps;
        double factor = step <= w ? (double)step / Math.Max(1, w) : Math.Max(0.0, (double)(t - step) / Math.Max(1, t - w));
        return (float)(Options.LearningRate * factor);
    }

    /// <summary>Global L2 norm of all gradients.</summary>
    public double GradientNorm()
    {
        double sum = 0;
        foreach (var p in Parameters) sum += _train.SumOfSquares(p.Grad);
        return Math.Sqrt(sum);
    }

    /// <summary>Clips, then updates every parameter; returns the gradient norm before clipping.</summary>
    public double Update()
    {
        double norm = GradientNorm();
        if (!double.IsFinite(norm))
        {
            var bad = Parameters.Where(p => !double.IsFinite(_train.SumOfSquares(p.Grad))).Select(p => p.Name).ToList();
            throw new InvalidOperationException($"the gradient norm is {norm} at update {Step + 1} (not finite in {bad.Count} of {Parameters.Count} parameters: " +
                $"{string.Join(", ", bad.Take(4))}{(bad.Count > 4 ? ", ..." : "")}): training diverged (lower the learning rate)");
        }
        if (Options.MaxGradNorm > 0)
        {
            double coefficient = Options.MaxGradNorm / (norm + 1e-6); // as clip_grad_norm_
            if (coefficient < 1) foreach (var p in Parameters) _train.Scale(p.Grad, (float)coefficient);
        }
        Step++;
        float lr = LearningRateAt(Step);
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            _train.AdamW(p.Value, p.Grad, FirstMoments[i], SecondMoments[i],
                new AdamWStep(lr, Options.Beta1, Options.Beta2, Options.Epsilon, p.Decay ? Options.WeightDecay : 0f, Step));
        }
        return norm;
    }
}
