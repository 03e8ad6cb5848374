using Rag.Neural.Tensors;
using Rag.Neural.Training;

namespace Rag.Neural.Tests;

/// <summary>The trainer on the tiny fixture towers: it learns, resumes exactly, and writes folders the service loads.</summary>
public sealed class TrainerTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "rag-trainer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    static string Tower(string name, string tower) => Path.Combine(AppContext.BaseDirectory, "Fixtures", "training", name, tower);

    /// <summary>Questions made of three words and passages that contain them among others, over the fixtures' w0..w58 vocabulary.</summary>
    static List<TrainingPair> Pairs(int count, int seed)
    {
        var random = new Random(seed);
        string W() => $"w{random.Next(59)}";
        var pairs = new List<TrainingPair>();
        for (int i = 0; i < count; i++)
        {
            var words = Enumerable.Range(0, 3).Select(_ => W()).ToArray();
            var passage = string.Join(' ', words.Concat(Enumerable.Range(0, 4).Select(_ => W())).OrderBy(_ => random.Next()));
            pairs.Add(new TrainingPair(string.Join(' ', words), passage, string.Join(' ', Enumerable.Range(0, 6).Select(_ => W()))));
        }
        return pairs;
    }

    static readonly DualEncoderTrainingOptions Fast = new()
    {
        BatchSize = 4,
        Epochs = 6,
        LearningRate = 2e-3f,
        WarmupFraction = 0.1f,
        CheckpointEvery = 0,
        MaxPassageTokens = 16,
        MaxQuestionTokens = 8,
    };

    DualEncoderTrainer Shared(List<TrainingPair> pairs, DualEncoderTrainingOptions options) =>
        new(TrainableEncoders.Load(Tower("shared-st", "encoder")), null, pairs, options, Path.Combine(_dir, "checkpoint"));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AFewStepsLowerTheLossOnAFixedSet(bool separateTowers)
    {
        var pairs = Pairs(16, 1);
        var trainer = separateTowers
            ? new DualEncoderTrainer(TrainableEncoders.Load(Tower("dpr", "question")), TrainableEncoders.Load(Tower("dpr", "context")), pairs, Fast, Path.Combine(_dir, "checkpoint"))
            : Shared(pairs, Fast);
        float before = trainer.EvaluateLoss();
        trainer.Train();
        float after = trainer.EvaluateLoss();
        Assert.Equal(trainer.TotalSteps, trainer.Step);
        // Separate towers start from two unrelated random encoders (their dot products sit above chance), so they move less.
        Assert.True(after < (separateTowers ? 0.9f : 0.7f) * before, $"loss {before} -> {after}");
    }

    [Fact]
    public void TheWrittenFolderLoadsAndGivesTheInMemoryEmbeddings()
    {
        var pairs = Pairs(8, 2);
        var trainer = Shared(pairs, Fast with { Epochs = 1 });
        trainer.Train();
        var (question, context) = trainer.Export(Path.Combine(_dir, "out"));
        Assert.Equal(question, context);
        using var loaded = NeuralModels.LoadBertEncoder(question);
        var texts = pairs.Select(p => p.Positive).Concat(pairs.Select(p => p.Question)).ToList();
        var expected = trainer.Embed(question: false, texts);
        var actual = loaded.Encode(texts);
        for (int i = 0; i < texts.Count; i++) Fixture.AssertClose(expected[i], actual[i], 1e-5f, $"text {i}");
        // Different from the base: the weights written are the trained ones.
        using var baseEncoder = NeuralModels.LoadBertEncoder(Tower("shared-st", "encoder"));
        Assert.NotEqual(baseEncoder.Encode([texts[0]])[0], actual[0]);
    }

    [Fact]
    public void SeparateTowersAreWrittenAsQuestionAndContextFolders()
    {
        var pairs = Pairs(8, 3);
        var trainer = new DualEncoderTrainer(TrainableEncoders.Load(Tower("dpr", "question")), TrainableEncoders.Load(Tower("dpr", "context")),
            pairs, Fast with { Epochs = 1 }, Path.Combine(_dir, "checkpoint"));
        trainer.Train();
        var (question, context) = trainer.Export(Path.Combine(_dir, "out"));
        var texts = pairs.Select(p => p.Question).ToList();
        using var q = NeuralModels.LoadBertEncoder(question);
        using var c = NeuralModels.LoadBertEncoder(context);
        var eq = trainer.Embed(question: true, texts); var ec = trainer.Embed(question: false, texts);
        var aq = q.Encode(texts); var ac = c.Encode(texts);
        for (int i = 0; i < texts.Count; i++)
        {
            Fixture.AssertClose(eq[i], aq[i], 1e-5f, $"question {i}");
            Fixture.AssertClose(ec[i], ac[i], 1e-5f, $"context {i}");
        }
    }

    sealed class StopAt(int step, CancellationTokenSource cts) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value)
        {
            if (value.Step == step) cts.Cancel();
        }
    }

    [Fact]
    public void AStepCancelledMidwayIsDroppedWholeAndRunsAgainAsIfNeverStarted()
    {
        var pairs = Pairs(12, 4);
        var interrupted = Shared(pairs, Fast);
        var before = interrupted.QuestionTower.Parameters.Select(p => p.Value.ToArray()).ToList();
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => interrupted.TrainStep(cancelled.Token));
        Assert.Equal(0, interrupted.Step);
        for (int i = 0; i < before.Count; i++) Assert.Equal(before[i], interrupted.QuestionTower.Parameters[i].Value.ToArray());

        var fresh = Shared(pairs, Fast);
        Assert.Equal(fresh.TrainStep(), interrupted.TrainStep());
        for (int i = 0; i < before.Count; i++)
            Assert.Equal(fresh.QuestionTower.Parameters[i].Value.ToArray(), interrupted.QuestionTower.Parameters[i].Value.ToArray());
    }

    [Fact]
    public void AStoppedRunResumesWhereItStoppedAndEndsAsAnUninterruptedOne()
    {
        var pairs = Pairs(12, 4);
        var options = Fast with { Epochs = 2, CheckpointEvery = 2 };
        var straight = new DualEncoderTrainer(TrainableEncoders.Load(Tower("shared-st", "encoder")), null, pairs, options, Path.Combine(_dir, "a"));
        straight.Train();

        var first = Shared(pairs, options);
        using var cts = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() => first.Train(new StopAt(3, cts), cts.Token));
        var second = Shared(pairs, options);
        Assert.Equal(3, second.Resume());
        second.Train();
        Assert.Equal(straight.TotalSteps, second.Step);
        var expected = straight.QuestionTower.Parameters;
        var actual = second.QuestionTower.Parameters;
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i].Value.ToArray(), actual[i].Value.ToArray());

        // A checkpoint from other settings is refused, not mixed in.
        var other = Shared(pairs, options with { LearningRate = 1e-4f });
        Assert.Throws<InvalidOperationException>(() => other.Resume());
    }

    [Fact]
    public void BatchesGroupPassagesOfSimilarLengthYetCoverEveryPairOnceAnEpoch()
    {
        var random = new Random(5);
        // 40 passage texts of 1..400 characters, each asked about by 3 questions (as SQuAD asks ~5 per paragraph)
        var passages = Enumerable.Range(0, 40).Select(i => new string('x', 1 + random.Next(400)) + i).ToList();
        var pairs = Enumerable.Range(0, 120).Select(i => new TrainingPair($"q{i}", passages[i % 40])).ToList();
        var options = new DualEncoderTrainingOptions { BatchSize = 4, Epochs = 2 };
        var grouped = DualEncoderTrainer.PlanBatches(pairs, options);
        var plain = DualEncoderTrainer.PlanBatches(pairs, options with { GroupByLength = false });

        foreach (var plan in new[] { grouped, plain })
        {
            Assert.All(plan, b => Assert.Equal(b.Length, b.Select(i => pairs[i].Positive).Distinct().Count())); // never a passage twice in a batch
            var visits = plan.SelectMany(b => b).CountBy(i => i).ToList();
            Assert.All(visits, v => Assert.True(v.Value <= 2)); // at most once an epoch
            Assert.True(visits.Sum(v => v.Value) >= 2 * 120 - 2 * 3, $"{visits.Sum(v => v.Value)} visits"); // only an epoch's last copies of one passage can be left out
        }
        // padding a batch costs its longest passage minus each of the others
        double Padding(List<int[]> plan) => plan.Average(b => b.Max(i => pairs[i].Positive.Length) - b.Average(i => pairs[i].Positive.Length));
        Assert.True(Padding(grouped) < Padding(plain) / 3, $"grouped batches pad {Padding(grouped):F0} characters, ungrouped {Padding(plain):F0}");
        // and the grouped batches do not run from short to long through the epoch
        var firstHalf = grouped.Take(grouped.Count / 4).Average(b => pairs[b[0]].Positive.Length);
        var secondHalf = grouped.Skip(grouped.Count / 4).Take(grouped.Count / 4).Average(b => pairs[b[0]].Positive.Length);
        Assert.True(Math.Abs(firstHalf - secondHalf) < 100, $"{firstHalf:F0} vs {secondHalf:F0}");
    }

    [Fact]
    public void APairCutFromAPassageNeverSharesABatchWithThatPassagesQuestions()
    {
        // Each passage is asked about once and also gives an inverse-cloze pair whose positive is the passage cut short:
        // in one batch the cut copy would be a negative of the question whose answer it holds.
        var passages = Enumerable.Range(0, 12).Select(i => $"Passage {i}. It has a second sentence.").ToList();
        var pairs = passages.Select((p, i) => new TrainingPair($"q{i}", p))
            .Concat(passages.Select(p => new TrainingPair("It has a second sentence.", p[..p.IndexOf('.')], Source: p))).ToList();
        var plan = DualEncoderTrainer.PlanBatches(pairs, new DualEncoderTrainingOptions { BatchSize = 6, Epochs = 3, GroupByLength = false });
        Assert.All(plan, b => Assert.Equal(b.Length, b.Select(i => pairs[i].Passage).Distinct().Count()));
        Assert.True(plan.Sum(b => b.Length) >= 3 * 24 - 3, "nearly every pair is visited each epoch");
    }

    [Fact]
    public void DropoutMasksAreSeededAndScaledAndOffAtInference()
    {
        var ops = CpuTrainingOps.Instance;
        var a = Tensor.Zeros(100_000); var b = Tensor.Zeros(100_000); var c = Tensor.Zeros(100_000);
        ops.DropoutMask(a, 0.1f, 7); ops.DropoutMask(b, 0.1f, 7); ops.DropoutMask(c, 0.1f, 8);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.NotEqual(a.ToArray(), c.ToArray());
        Assert.All(a.ToArray(), v => Assert.True(v == 0f || MathF.Abs(v - 1f / 0.9f) < 1e-6f));
        double dropped = a.ToArray().Count(v => v == 0f) / 100_000.0;
        Assert.InRange(dropped, 0.095, 0.105);

        var loaded = TrainableEncoders.Load(Tower("shared-st", "encoder"));
        Assert.Equal(0.1f, loaded.Tower.DropoutProbability);
        var batch = loaded.Tokenizer.EncodeBatch(["w1 w2 w3 w4", "w5 w6"], 16);
        float[] Run(bool training, ulong seed) => loaded.Tower.Forward(loaded.Tower.CreateActivations(), batch.BatchSize, batch.SequenceLength,
            batch.InputIds, batch.TokenTypeIds, batch.AttentionMask, training, seed).ToArray();
        Assert.Equal(Run(false, 1), Run(false, 2));
        Assert.Equal(Run(true, 1), Run(true, 1));
        Assert.NotEqual(Run(true, 1), Run(true, 2));
        Assert.NotEqual(Run(false, 1), Run(true, 1));
        using var inference = NeuralModels.LoadBertEncoder(Tower("shared-st", "encoder"));
        Fixture.AssertClose(Run(false, 1), inference.EncodeIds(batch.BatchSize, batch.SequenceLength, batch.InputIds, batch.TokenTypeIds, batch.AttentionMask).SelectMany(v => v).ToArray(), 1e-5f);
    }

    [Fact]
    public void GradientsWithDropoutOnMatchFiniteDifferences()
    {
        // Dropout masks are fixed by the seed, so the loss is a smooth function of the weights and central differences apply.
        var loaded = TrainableEncoders.Load(Tower("shared-st", "encoder"));
        var tower = loaded.Tower;
        var qb = loaded.Tokenizer.EncodeBatch(["w1 w2 w3", "w4 w5", "w6 w7 w8 w9"], 16);
        var pb = loaded.Tokenizer.EncodeBatch(["w1 w2 w3 w10 w11", "w4 w12 w5", "w6 w13 w7 w8 w9 w14", "w15 w16"], 16);
        var qa = tower.CreateActivations(); var pa = tower.CreateActivations();
        var loss = new InBatchLoss();
        float Loss(bool backward)
        {
            var q = tower.Forward(qa, qb.BatchSize, qb.SequenceLength, qb.InputIds, qb.TokenTypeIds, qb.AttentionMask, training: true, seed: 3);
            var p = tower.Forward(pa, pb.BatchSize, pb.SequenceLength, pb.InputIds, pb.TokenTypeIds, pb.AttentionMask, training: true, seed: 4);
            var dq = Tensor.Zeros(q.Shape); var dp = Tensor.Zeros(p.Shape);
            float l = loss.ForwardBackward(q, p, 20f, dq, dp);
            if (backward) { tower.ZeroGrad(); tower.Backward(qa, dq); tower.Backward(pa, dp); }
            return l;
        }
        Loss(backward: true);
        foreach (var name in new[] { "encoder.layer.0.attention.self.query.weight", "encoder.layer.1.intermediate.dense.weight", "embeddings.LayerNorm.weight", "encoder.layer.1.output.dense.bias" })
        {
            var parameter = tower.Parameters.Single(p => p.Name == name);
            var grad = parameter.Grad.ToArray();
            int at = Array.IndexOf(grad, grad.MaxBy(MathF.Abs));
            float original = parameter.Value.Span[at], h = 1e-2f * MathF.Max(1f, MathF.Abs(original));
            parameter.Value.Span[at] = original + h; float up = Loss(false);
            parameter.Value.Span[at] = original - h; float down = Loss(false);
            parameter.Value.Span[at] = original;
            float numeric = (up - down) / (2 * h);
            Assert.True(MathF.Abs(numeric - grad[at]) <= 0.05f * MathF.Abs(grad[at]), $"{name}[{at}]: backward {grad[at]}, finite differences {numeric}");
        }
    }

    [SkippableFact]
    public void ABuiltinBaseIsWrittenAsAFolderThatLoadsAsTheSameEncoder()
    {
        LoadedTower tower;
        try { tower = TrainableEncoders.Load("builtin:arctic-embed-xs"); }
        catch (Weights.ModelLoadException e) { throw new SkipException($"skipped: {e.Message}"); }
        var trainer = new DualEncoderTrainer(tower, null, Pairs(4, 5), Fast with { BatchSize = 2, Epochs = 1, MaxPassageTokens = 64 }, Path.Combine(_dir, "checkpoint"));
        var (folder, _) = trainer.Export(Path.Combine(_dir, "out"));
        using var written = NeuralModels.LoadEncoder(folder);
        using var builtin = NeuralModels.LoadEncoder("builtin:arctic-embed-xs");
        Assert.Equal(builtin.Prompts, written.Prompts);
        Assert.Equal(builtin.MaxTokens, written.MaxTokens);
        string[] texts = ["Where is the Eiffel Tower?", "The Eiffel Tower is a wrought-iron lattice tower in Paris."];
        var expected = builtin.Encode(texts); var actual = written.Encode(texts); var inMemory = trainer.Embed(question: false, texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Fixture.AssertClose(expected[i], actual[i], 1e-5f, $"text {i}");
            Fixture.AssertClose(expected[i], inMemory[i], 1e-5f, $"text {i} in memory");
        }
    }
}
