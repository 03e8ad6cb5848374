using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Rag.Neural.Tensors;
using Rag.Neural.Weights;

namespace Rag.Neural.Training;

/// <summary>
/// A question, the passage that answers it, and optionally one hard negative (DPR uses the best BM25 passage that is not
/// gold). <paramref name="Source"/> is the corpus passage the pair was cut from when <paramref name="Positive"/> is not
/// that passage itself (an inverse-cloze pair: a sentence as the question, the rest as the positive).
/// </summary>
public sealed record TrainingPair(string Question, string Positive, string? HardNegative = null, string? Source = null)
{
    /// <summary>The corpus passage behind the positive: one batch never holds two pairs of one passage.</summary>
    public string Passage => Source ?? Positive;
}

public sealed record DualEncoderTrainingOptions
{
    public int Epochs { get; init; } = 1;
    /// <summary>Questions per step; each sees the batch's other positives (and hard negatives) as negatives.</summary>
    public int BatchSize { get; init; } = 32;
    public float LearningRate { get; init; } = 2e-5f;
    /// <summary>Share of all steps spent warming the learning rate up from 0.</summary>
    public float WarmupFraction { get; init; } = 0.1f;
    public float WeightDecay { get; init; } = 0.01f;
    public float MaxGradNorm { get; init; } = 1f;
    /// <summary>Softmax temperature for normalised (cosine) towers; dot-product towers use none.</summary>
    public float Temperature { get; init; } = 0.05f;
    /// <summary>Adds each pair's hard negative to the batch's passages when it has one.</summary>
    public bool HardNegatives { get; init; } = true;
    /// <summary>
    /// Fills each batch with passages of similar length (sorted within windows of 16 batches of the shuffled order,
    /// then the batches shuffled), so a batch pads to its own longest passage rather than nearly always to the maximum.
    /// </summary>
    public bool GroupByLength { get; init; } = true;
    public int MaxQuestionTokens { get; init; } = 64;
    public int MaxPassageTokens { get; init; } = 256;
    public int Seed { get; init; } = 13;
    /// <summary>Write a resumable checkpoint every this many steps (0: only when stopped and at the end).</summary>
    public int CheckpointEvery { get; init; } = 100;
    /// <summary>Prepended to every question and passage: the base model's prompts unless set (sentence-transformers' prompts).</summary>
    public EncoderPrompts? Prompts { get; init; }
}

public sealed record TrainingProgress(int Step, int TotalSteps, float Loss, float AverageLoss, double StepsPerSecond, TimeSpan Elapsed, TimeSpan Remaining);

/// <summary>
/// Fine-tunes a dual encoder (Karpukhin et al. 2020) with in-batch negatives: shared towers (one encoder for questions
/// and passages, as the built-in models are) or separate question and context towers (as DPR has). Deterministic for a
/// seed: batches, dropout masks and updates repeat exactly, so a run stopped and resumed from its checkpoint ends where
/// an uninterrupted one would.
/// </summary>
public sealed class DualEncoderTrainer
{
    readonly IBackend _ops;
    readonly ITrainingOps _train;
    readonly LoadedTower _question;
    readonly LoadedTower _context;
    readonly EncoderTower.Activations _qa, _pa;
    readonly InBatchLoss _loss;
    readonly AdamWOptimizer _optimizer;
    readonly List<int[]> _plan;
    readonly IReadOnlyList<TrainingPair> _pairs;
    readonly string _fingerprint;
    Tensor _dq, _dp;

    public DualEncoderTrainingOptions Options { get; }
    public bool Shared => ReferenceEquals(_question, _context);
    public EncoderTower QuestionTower => _question.Tower;
    public EncoderTower ContextTower => _context.Tower;
    public int Step => _optimizer.Step;
    public int TotalSteps => _plan.Count;
    /// <summary>Where checkpoints are written and resumed from.</summary>
    public string CheckpointDirectory { get; }

    /// <param name="context">Null for shared towers.</param>
    public DualEncoderTrainer(LoadedTower question, LoadedTower? context, IReadOnlyList<TrainingPair> pairs, DualEncoderTrainingOptions options,
        string checkpointDirectory, IBackend? ops = null, ITrainingOps? train = null)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        if (options.BatchSize < 2) throw new ArgumentOutOfRangeException(nameof(options), "the batch needs at least 2 questions: the others' passages are the negatives");
        if (options.Epochs < 1) throw new ArgumentOutOfRangeException(nameof(options), "epochs must be at least 1");
        if (!(options.LearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(options), "the learning rate must be positive");
        if (!(options.Temperature > 0)) throw new ArgumentOutOfRangeException(nameof(options), "the temperature must be positive");
        if (options.WarmupFraction is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(options), "the warm-up fraction must be between 0 and 1");
        _ops = ops ?? CpuBackend.Instance;
        _train = train ?? CpuTrainingOps.Instance;
        _question = question;
        _context = context ?? question;
        if (QuestionTower.Dimension != ContextTower.Dimension)
            throw new ArgumentException($"the question tower gives {QuestionTower.Dimension} dimensions but the context tower {ContextTower.Dimension}");
        if (QuestionTower.Normalize != ContextTower.Normalize)
            throw new ArgumentException("one tower normalises its vectors and the other does not: the similarity would be neither cosine nor dot product");
        Options = options;
        CheckpointDirectory = checkpointDirectory;
        _pairs = pairs;
        _plan = PlanBatches(pairs, options);
        if (_plan.Count == 0) throw new ArgumentException($"{pairs.Count} training pairs do not make one batch of at least 2 questions with distinct passages");
        _fingerprint = Fingerprint(pairs, options);
        _qa = QuestionTower.CreateActivations();
        _pa = ContextTower.CreateActivations();
        _loss = new InBatchLoss(_ops, _train);
        _dq = _ops.Allocate(1); _dp = _ops.Allocate(1);
        var parameters = Shared ? QuestionTower.Parameters.ToList() : [.. QuestionTower.Parameters, .. ContextTower.Parameters];
        _optimizer = new AdamWOptimizer(parameters, new AdamWOptions
        {
            LearningRate = options.LearningRate,
            WeightDecay = options.WeightDecay,
            MaxGradNorm = options.MaxGradNorm,
            TotalSteps = _plan.Count,
            WarmupSteps = (int)Math.Round(options.WarmupFraction * _plan.Count),
        }, _ops, _train);
    }

    /// <summary>Cosine towers score by similarity / temperature, dot-product towers by the raw product.</summary>
    public float Scale => QuestionTower.Normalize ? 1f / Options.Temperature : 1f;

    /// <summary>
    /// Each epoch visits the pairs in a seeded random order; a pair whose passage is already in the current batch
    /// waits for the next one (two copies of one passage would make a positive also a negative).
    /// </summary>
    public static List<int[]> PlanBatches(IReadOnlyList<TrainingPair> pairs, DualEncoderTrainingOptions options)
    {
        const int GroupWindow = 16;
        var plan = new List<int[]>();
        for (int epoch = 0; epoch < options.Epochs; epoch++)
        {
            var random = new Random(options.Seed * 7919 + epoch);
            var order = Enumerable.Range(0, pairs.Count).ToArray();
            random.Shuffle(order);
            int window = options.BatchSize * GroupWindow;
            if (options.GroupByLength)
                for (int start = 0; start < order.Length; start += window)
                {
                    var items = order.AsSpan(start, Math.Min(window, order.Length - start));
                    var lengths = items.ToArray().Select(i => PaddedLength(pairs[i], options)).ToArray();
                    lengths.AsSpan().Sort(items);
                }
            var epochBatches = new List<int[]>();
            var pending = new List<int>(order);
            while (pending.Count > 0)
            {
                var batch = new List<int>(options.BatchSize);
                var seen = new HashSet<string>(StringComparer.Ordinal);
                var rest = new List<int>();
                foreach (var i in pending)
                {
                    if (batch.Count < options.BatchSize && seen.Add(pairs[i].Passage)) batch.Add(i);
                    else rest.Add(i);
                }
                if (batch.Count >= 2) epochBatches.Add([.. batch]);
                if (rest.Count == pending.Count || batch.Count < 2) break; // what is left cannot form a batch
                pending = rest;
            }
            if (options.GroupByLength) random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(epochBatches)); // lengths must not rise through the epoch
            plan.AddRange(epochBatches);
        }
        return plan;
    }

    /// <summary>The longest passage a pair adds to its batch, in characters (a proxy for tokens).</summary>
    static int PaddedLength(TrainingPair pair, DualEncoderTrainingOptions options) =>
        Math.Max(pair.Positive.Length, options.HardNegatives ? pair.HardNegative?.Length ?? 0 : 0);

    static string Fingerprint(IReadOnlyList<TrainingPair> pairs, DualEncoderTrainingOptions options)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var p in pairs) hash.AppendData(Encoding.UTF8.GetBytes($"{p.Question}\u0001{p.Positive}\u0001{p.HardNegative}{(p.Source is null ? "" : $"\u0001{p.Source}")}\u0002"));
        hash.AppendData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(options with { CheckpointEvery = 0 })));
        return Convert.ToHexString(hash.GetHashAndReset());
    }

    (int Batch, int SeqLen, int[] Ids, int[] Types, int[] Mask) Tokenize(LoadedTower tower, IReadOnlyList<string> texts, int maxTokens)
    {
        var b = tower.Tokenizer.EncodeBatch(texts, Math.Min(maxTokens, tower.MaxTokens));
        return (b.BatchSize, b.SequenceLength, b.InputIds, b.TokenTypeIds, b.AttentionMask);
    }

    /// <summary>Question texts as the model sees them (with the query prompt).</summary>
    public string QuestionText(string question) => (Options.Prompts ?? _question.Prompts).Query + question;

    /// <summary>Passage texts as the model sees them (with the document prompt).</summary>
    public string PassageText(string passage) => (Options.Prompts ?? _context.Prompts).Document + passage;

    (List<string> Questions, List<string> Passages) BatchTexts(int[] batch, bool hardNegatives)
    {
        var questions = batch.Select(i => QuestionText(_pairs[i].Question)).ToList();
        var passages = batch.Select(i => _pairs[i].Positive).ToList();
        if (hardNegatives)
        {
            // A negative that is one of the batch's passages would be both positive and negative.
            var inBatch = new HashSet<string>(batch.Select(i => _pairs[i].Passage), StringComparer.Ordinal);
            foreach (var i in batch)
                if (_pairs[i].HardNegative is { } n && !inBatch.Contains(n)) passages.Add(n);
        }
        return (questions, passages.Select(PassageText).ToList());
    }

    /// <summary>
    /// Forward, loss, backward and one AdamW update on the planned batch number Step; returns the loss. Cancelled before
    /// the update, the step is dropped whole (parameters, moments and Step untouched), so a stop need not wait for it.
    /// </summary>
    public float TrainStep(CancellationToken ct = default)
    {
        if (Step >= TotalSteps) throw new InvalidOperationException($"all {TotalSteps} steps are done");
        var (questions, passages) = BatchTexts(_plan[Step], Options.HardNegatives);
        ulong seed = (ulong)Options.Seed * 1_000_003UL + (ulong)Step;
        var qt = Tokenize(_question, questions, Options.MaxQuestionTokens);
        var pt = Tokenize(_context, passages, Options.MaxPassageTokens);
        QuestionTower.ZeroGrad();
        if (!Shared) ContextTower.ZeroGrad();
        var q = QuestionTower.Forward(_qa, qt.Batch, qt.SeqLen, qt.Ids, qt.Types, qt.Mask, training: true, seed);
        ct.ThrowIfCancellationRequested();
        var p = ContextTower.Forward(_pa, pt.Batch, pt.SeqLen, pt.Ids, pt.Types, pt.Mask, training: true, seed ^ 0x5A5A5A5A5A5A5A5AUL);
        ct.ThrowIfCancellationRequested();
        var (dq, dp) = Gradients(q, p);
        float loss = _loss.ForwardBackward(q, p, Scale, dq, dp);
        QuestionTower.Backward(_qa, dq);
        ct.ThrowIfCancellationRequested();
        ContextTower.Backward(_pa, dp);
        ct.ThrowIfCancellationRequested(); // the last point at which the step can be dropped
        _optimizer.Update();
        return loss;
    }

    (Tensor, Tensor) Gradients(Tensor q, Tensor p)
    {
        if (_dq.Length < q.Length) _dq = _ops.Allocate(q.Length);
        if (_dp.Length < p.Length) _dp = _ops.Allocate(p.Length);
        return (_dq.Slice(0, q.Length).Reshape(q.Shape), _dp.Slice(0, p.Length).Reshape(p.Shape));
    }

    /// <summary>Mean in-batch loss over the plan's first epoch without dropout or updates (in-batch negatives only).</summary>
    public float EvaluateLoss()
    {
        double sum = 0; int count = 0;
        var firstEpoch = _plan.Take(Math.Max(1, _plan.Count / Options.Epochs));
        foreach (var batch in firstEpoch)
        {
            var (questions, passages) = BatchTexts(batch, hardNegatives: false);
            var qt = Tokenize(_question, questions, Options.MaxQuestionTokens);
            var pt = Tokenize(_context, passages, Options.MaxPassageTokens);
            var q = QuestionTower.Forward(_qa, qt.Batch, qt.SeqLen, qt.Ids, qt.Types, qt.Mask, training: false);
            var p = ContextTower.Forward(_pa, pt.Batch, pt.SeqLen, pt.Ids, pt.Types, pt.Mask, training: false);
            var (dq, dp) = Gradients(q, p);
            sum += _loss.ForwardBackward(q, p, Scale, dq, dp);
            count++;
        }
        return (float)(sum / count);
    }

    /// <summary>Embeddings of texts by one tower in eval mode (no dropout), as the exported folder must give them.</summary>
    public float[][] Embed(bool question, IReadOnlyList<string> texts)
    {
        var tower = question ? _question : _context;
        var acts = question ? _qa : _pa;
        var t = Tokenize(tower, texts.Select(x => question ? QuestionText(x) : PassageText(x)).ToList(), question ? Options.MaxQuestionTokens : Options.MaxPassageTokens);
        var e = tower.Tower.Forward(acts, t.Batch, t.SeqLen, t.Ids, t.Types, t.Mask, training: false);
        int d = e.Dim(1);
        return Enumerable.Range(0, t.Batch).Select(i => e.Span.Slice(i * d, d).ToArray()).ToArray();
    }

    /// <summary>Runs the remaining steps, checkpointing every CheckpointEvery steps and when cancelled (then it throws).</summary>
    public void Train(IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        int startStep = Step;
        double lossSum = 0;
        try
        {
            while (Step < TotalSteps)
            {
                ct.ThrowIfCancellationRequested();
                float loss = TrainStep(ct);
                if (!float.IsFinite(loss)) throw new InvalidOperationException($"the loss is {loss} at step {Step}: training diverged (lower the learning rate)");
                lossSum += loss;
                int done = Step - startStep;
                double rate = done / Math.Max(1e-9, clock.Elapsed.TotalSeconds);
                progress?.Report(new TrainingProgress(Step, TotalSteps, loss, (float)(lossSum / done), rate, clock.Elapsed,
                    TimeSpan.FromSeconds((TotalSteps - Step) / Math.Max(1e-9, rate))));
                if (Options.CheckpointEvery > 0 && Step % Options.CheckpointEvery == 0 && Step < TotalSteps) SaveCheckpoint();
            }
            SaveCheckpoint();
        }
        catch (OperationCanceledException)
        {
            SaveCheckpoint();
            throw;
        }
    }

    const string StateFile = "state.safetensors", InfoFile = "trainer.json";

    sealed record CheckpointInfo(int Step, int TotalSteps, string Fingerprint, bool Shared, DateTimeOffset Written);

    /// <summary>Parameters, AdamW moments and the step, written to a temporary folder then swapped in (never half a checkpoint).</summary>
    public void SaveCheckpoint()
    {
        var temp = CheckpointDirectory + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);
        var entries = new List<SafetensorsWriter.Entry>();
        var parameters = _optimizer.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            string key = $"{(Shared || i < QuestionTower.Parameters.Count ? "question" : "context")}/{p.Name}";
            entries.Add(new(key, p.Value.Shape, p.Value.ToArray()));
            entries.Add(new(key + "#m", p.Value.Shape, _optimizer.FirstMoments[i].ToArray()));
            entries.Add(new(key + "#v", p.Value.Shape, _optimizer.SecondMoments[i].ToArray()));
        }
        SafetensorsWriter.Write(Path.Combine(temp, StateFile), entries);
        File.WriteAllText(Path.Combine(temp, InfoFile), JsonSerializer.Serialize(new CheckpointInfo(Step, TotalSteps, _fingerprint, Shared, DateTimeOffset.UtcNow)));
        var old = CheckpointDirectory + ".old";
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
        if (Directory.Exists(CheckpointDirectory)) Directory.Move(CheckpointDirectory, old);
        Directory.Move(temp, CheckpointDirectory);
        if (Directory.Exists(old)) Directory.Delete(old, recursive: true);
    }

    /// <summary>
    /// Loads the checkpoint in CheckpointDirectory when there is one; returns the step it resumes at (0 when none).
    /// A checkpoint from other data or settings is refused rather than silently mixed in.
    /// </summary>
    public int Resume()
    {
        var infoPath = Path.Combine(CheckpointDirectory, InfoFile);
        if (!File.Exists(infoPath)) return 0;
        CheckpointInfo info;
        try { info = JsonSerializer.Deserialize<CheckpointInfo>(File.ReadAllText(infoPath)) ?? throw new JsonException("empty"); }
        catch (JsonException e) { throw new InvalidDataException($"{infoPath} is not a trainer checkpoint ({e.Message}); delete the folder to start over", e); }
        if (info.Fingerprint != _fingerprint || info.Shared != Shared || info.TotalSteps != TotalSteps)
            throw new InvalidOperationException($"the checkpoint in {CheckpointDirectory} was made for other training data or settings: delete it to start over, or choose another output folder");
        using var state = SafetensorsFile.Open(Path.Combine(CheckpointDirectory, StateFile));
        var parameters = _optimizer.Parameters;
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            string key = $"{(Shared || i < QuestionTower.Parameters.Count ? "question" : "context")}/{p.Name}";
            _ops.Copy(state.Load(key), p.Value);
            _ops.Copy(state.Load(key + "#m"), _optimizer.FirstMoments[i]);
            _ops.Copy(state.Load(key + "#v"), _optimizer.SecondMoments[i]);
        }
        _optimizer.Step = info.Step;
        return info.Step;
    }

    /// <summary>
    /// The trained encoder as model folders: for shared towers one folder (set it as Rag:Models:QuestionEncoder alone);
    /// for separate towers directory/question and directory/context. Returns the folders written.
    /// </summary>
    public (string Question, string Context) Export(string directory)
    {
        if (Shared)
        {
            EncoderFolder.Write(_question, directory);
            return (directory, directory);
        }
        string q = Path.Combine(directory, "question"), c = Path.Combine(directory, "context");
        EncoderFolder.Write(_question, q);
        EncoderFolder.Write(_context, c);
        return (q, c);
    }
}
