using Rag.Neural.Tensors;
using Rag.Neural.Training;
using Rag.Neural.Weights;

namespace Rag.Neural.Tests;

/// <summary>
/// Training against PyTorch autograd (tools/parity/make_training_fixtures.py): for one batch with padding, the
/// embeddings, the in-batch loss and every parameter's gradient; then two AdamW steps against torch.optim.AdamW.
/// Tolerance is relative to each tensor's largest reference value: max |ours - ref| &lt;= 1e-4 max |ref|.
/// </summary>
public class TrainingParityTests
{
    sealed class Case
    {
        public required Fixture Expected;
        public required Dictionary<string, EncoderTower> Towers;
        public required EncoderTower Question, Context;
        public required string Root;
    }

    static Case Open(string name, string questionTower, string contextTower)
    {
        var f = new Fixture(Path.Combine("training", name));
        var towers = new[] { questionTower, contextTower }.Distinct()
            .ToDictionary(t => t, t => TrainableEncoders.Load(Path.Combine(f.Directory, t)).Tower);
        return new Case { Expected = f, Towers = towers, Question = towers[questionTower], Context = towers[contextTower], Root = f.Directory };
    }

    static (float Loss, Tensor Q, Tensor P) Step(Case c)
    {
        var f = c.Expected;
        var qIds = f.IntRows("question_ids"); var pIds = f.IntRows("passage_ids");
        var qa = c.Question.CreateActivations(); var pa = c.Context.CreateActivations();
        foreach (var t in c.Towers.Values) t.ZeroGrad();
        var q = c.Question.Forward(qa, qIds.Length, qIds[0].Length, f.Ints("question_ids"), f.Ints("question_types"), f.Ints("question_mask"), training: false);
        var p = c.Context.Forward(pa, pIds.Length, pIds[0].Length, f.Ints("passage_ids"), f.Ints("passage_types"), f.Ints("passage_mask"), training: false);
        var dq = Tensor.Zeros(q.Shape); var dp = Tensor.Zeros(p.Shape);
        float loss = new InBatchLoss().ForwardBackward(q, p, (float)f.Number("scale"), dq, dp);
        var qCopy = Tensor.FromArray(q.ToArray(), q.Shape); var pCopy = Tensor.FromArray(p.ToArray(), p.Shape);
        c.Question.Backward(qa, dq);
        c.Context.Backward(pa, dp);
        return (loss, qCopy, pCopy);
    }

    static float MaxAbs(ReadOnlySpan<float> x)
    {
        float m = 0;
        foreach (var v in x) m = MathF.Max(m, MathF.Abs(v));
        return m;
    }

    /// <param name="floor">Scale used when the reference is (analytically) zero, the model's largest gradient: the key bias's gradient is, since
    /// softmax ignores a constant added to a row, and fp32 leaves rounding noise there.</param>
    static void AssertRelative(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what, float tolerance = 1e-4f, float floor = 0f)
    {
        Assert.Equal(expected.Length, actual.Length);
        float scale = MathF.Max(MaxAbs(expected), floor), worst = 0; int at = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = MathF.Abs(expected[i] - actual[i]);
            if (!(diff <= worst)) { worst = diff; at = i; }
        }
        Assert.True(worst <= tolerance * scale, $"{what}: max abs diff {worst} at {at} (expected {expected[at]}, got {actual[at]}) exceeds {tolerance} x {scale}");
    }

    [Theory]
    [InlineData("shared-st", "encoder", "encoder")]
    [InlineData("dpr", "question", "context")]
    public void LossEmbeddingsAndEveryGradientMatchAutograd(string name, string questionTower, string contextTower)
    {
        var c = Open(name, questionTower, contextTower);
        var (loss, q, p) = Step(c);
        AssertRelative(c.Expected.Floats("question_embeddings").Data, q.Span, "question embeddings");
        AssertRelative(c.Expected.Floats("passage_embeddings").Data, p.Span, "passage embeddings");
        Assert.Equal(c.Expected.Number("loss"), loss, 1e-4 * Math.Max(1, c.Expected.Number("loss")));

        using var grads = SafetensorsFile.Open(Path.Combine(c.Root, "grads.safetensors"));
        int checkedCount = 0;
        float largest = grads.Tensors.Keys.Max(k => MaxAbs(grads.Load(k).Span));
        foreach (var (towerName, tower) in c.Towers)
            foreach (var parameter in tower.Parameters)
            {
                var expected = grads.Load($"{towerName}/{parameter.Name}");
                Assert.Equal(expected.Shape, parameter.Grad.Shape);
                AssertRelative(expected.Span, parameter.Grad.Span, $"gradient of {towerName}/{parameter.Name}", floor: MaxAbs(expected.Span) < 1e-9f * largest ? largest : 0f);
                checkedCount++;
            }
        Assert.Equal(grads.Tensors.Count, checkedCount);
    }

    [Theory]
    [InlineData("shared-st", "encoder", "encoder")]
    [InlineData("dpr", "question", "context")]
    public void TwoAdamWStepsFromTheReferenceGradientsMatchTorch(string name, string questionTower, string contextTower)
    {
        var c = Open(name, questionTower, contextTower);
        var settings = c.Expected.Element("adamw");
        var all = c.Towers.SelectMany(t => t.Value.Parameters.Select(p => (Tower: t.Key, Parameter: p))).ToList();
        var optimizer = new AdamWOptimizer(all.Select(x => x.Parameter).ToList(), new AdamWOptions
        {
            LearningRate = settings.GetProperty("lr").GetSingle(),
            WarmupSteps = settings.GetProperty("warmup").GetInt32(),
            TotalSteps = settings.GetProperty("total").GetInt32(),
            MaxGradNorm = settings.GetProperty("max_norm").GetSingle(),
            WeightDecay = settings.GetProperty("weight_decay").GetSingle(),
            Epsilon = settings.GetProperty("eps").GetSingle(),
        });
        var before = all.Select(x => x.Parameter.Value.ToArray()).ToList();
        using var grads = SafetensorsFile.Open(Path.Combine(c.Root, "grads.safetensors"));
        var lrs = settings.GetProperty("lrs").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var norms = settings.GetProperty("grad_norms").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        float[] factors = [1f, settings.GetProperty("second_factor").GetSingle()];
        for (int step = 0; step < 2; step++)
        {
            foreach (var (tower, parameter) in all)
            {
                var g = grads.Load($"{tower}/{parameter.Name}").Span;
                for (int i = 0; i < g.Length; i++) parameter.Grad.Span[i] = g[i] * factors[step];
            }
            Assert.Equal(lrs[step], optimizer.LearningRateAt(step + 1), 1e-9);
            double norm = optimizer.Update();
            Assert.Equal(norms[step], norm, 1e-4 * norms[step]);
        }
        using var after = SafetensorsFile.Open(Path.Combine(c.Root, "adamw.safetensors"));
        for (int k = 0; k < all.Count; k++)
        {
            var (tower, parameter) = all[k];
            var expected = after.Load($"{tower}/{parameter.Name}").Span;
            var expectedDelta = new float[expected.Length]; var actualDelta = new float[expected.Length];
            for (int i = 0; i < expected.Length; i++)
            {
                expectedDelta[i] = expected[i] - before[k][i];
                actualDelta[i] = parameter.Value.Span[i] - before[k][i];
            }
            // The update itself, not the (much larger) parameter, is what must agree.
            AssertRelative(expectedDelta, actualDelta, $"AdamW update of {tower}/{parameter.Name}");
        }
    }
}
