using Rag.Neural.Models;
using Rag.Neural.Tensors;
using Rag.Neural.Weights;

namespace Rag.Neural.Training;

/// <summary>
/// A trainable BERT bi-encoder tower: embeddings, post-LN blocks, CLS or mean pooling, DPR's optional encode_proj and
/// optional L2 normalisation, with every forward op beside its backward (llm.c style). Parameters are owned copies
/// under their checkpoint names, so the tower writes back a checkpoint the inference loader reads. Dropout follows
/// BERT: after the embedding LayerNorm, on the attention probabilities, and on each sub-layer's output before the
/// residual add; it is applied only when Forward is told it is training.
/// </summary>
public sealed class EncoderTower
{
    sealed class Block
    {
        public required Parameter QueryW, QueryB, KeyW, KeyB, ValueW, ValueB, OutW, OutB, Norm1G, Norm1B;
        public required Parameter UpW, UpB, DownW, DownB, Norm2G, Norm2B;
    }

    readonly IBackend _ops;
    readonly ITrainingOps _train;
    readonly Parameter _word, _position, _type, _embedNormG, _embedNormB;
    readonly Block[] _blocks;
    readonly Parameter? _projW, _projB;
    readonly List<Parameter> _parameters = [];

    public BertConfig Config { get; }
    public string Prefix { get; }
    public EncoderPooling Pooling { get; }
    public bool Normalize { get; }
    public float DropoutProbability { get; set; }
    public int Dimension => _projW?.Value.Dim(0) ?? Config.Hidden;
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>Copies the tower's tensors out of a checkpoint (which may then be closed).</summary>
    public EncoderTower(BertConfig config, Checkpoint weights, string prefix, EncoderPooling pooling, bool normalize, int projectionDim,
        float dropoutProbability, IBackend? ops = null, ITrainingOps? train = null)
    {
        Config = config;
        Prefix = prefix;
        Pooling = pooling;
        Normalize = normalize;
        DropoutProbability = dropoutProbability;
        _ops = ops ?? CpuBackend.Instance;
        _train = train ?? CpuTrainingOps.Instance;
        if (_ops.Device != _train.Device) throw new ArgumentException($"forward ops on {_ops.Device} but training ops on {_train.Device}");
        int c = config.Hidden, inter = config.Intermediate;
        Parameter P(string name, bool decay, params int[] shape)
        {
            var source = weights.Take(name, shape);
            var value = _ops.Allocate(shape);
            _ops.Copy(source, value);
            var p = new Parameter(name, value, _ops.Allocate(shape), decay);
            _parameters.Add(p);
            return p;
        }
        string e = prefix + "embeddings.";
        _word = P(e + "word_embeddings.weight", true, config.VocabSize, c);
        _position = P(e + "position_embeddings.weight", true, config.MaxPositions, c);
        _type = P(e + "token_type_embeddings.weight", true, config.TypeVocabSize, c);
        _embedNormG = P(e + "LayerNorm.weight", false, c);
        _embedNormB = P(e + "LayerNorm.bias", false, c);
        _blocks = new Block[config.Layers];
        for (int i = 0; i < config.Layers; i++)
        {
            string l = $"{prefix}encoder.layer.{i}.";
            _blocks[i] = new Block
            {
                QueryW = P(l + "attention.self.query.weight", true, c, c),
                QueryB = P(l + "attention.self.query.bias", false, c),
                KeyW = P(l + "attention.self.key.weight", true, c, c),
                KeyB = P(l + "attention.self.key.bias", false, c),
                ValueW = P(l + "attention.self.value.weight", true, c, c),
                ValueB = P(l + "attention.self.value.bias", false, c),
                OutW = P(l + "attention.output.dense.weight", true, c, c),
                OutB = P(l + "attention.output.dense.bias", false, c),
                Norm1G = P(l + "attention.output.LayerNorm.weight", false, c),
                Norm1B = P(l + "attention.output.LayerNorm.bias", false, c),
                UpW = P(l + "intermediate.dense.weight", true, inter, c),
                UpB = P(l + "intermediate.dense.bias", false, inter),
                DownW = P(l + "output.dense.weight", true, c, inter),
                DownB = P(l + "output.dense.bias", false, c),
                Norm2G = P(l + "output.LayerNorm.weight", false, c),
                Norm2B = P(l + "output.LayerNorm.bias", false, c),
            };
        }
        if (projectionDim > 0)
        {
            string root = NeuralModels.ProjectionPrefix(prefix);
            _projW = P(root + "encode_proj.weight", true, projectionDim, c);
            _projB = P(root + "encode_proj.bias", false, projectionDim);
        }
    }

    /// <summary>Everything one forward keeps for its backward, plus the backward's scratch; grown on demand, reused across steps.</summary>
    public sealed class Activations
    {
        internal int Batch, SeqLen, CapacityTokens, CapacityScores, CapacityBatch;
        internal int[] Ids = [], Types = [], Mask = [], Positions = [];
        internal bool Training;
        internal Tensor EmbedSum = null!, EmbedMean = null!, EmbedRstd = null!, EmbedDrop = null!;
        internal Tensor[] Stream = [];   // Stream[0] = embeddings after dropout, Stream[l + 1] = block l's output (N, C)
        internal LayerActivations[] Layers = [];
        internal Tensor Pooled = null!, Projected = null!, Output = null!;  // (B, C), (B, P), (B, P)
        internal Tensor DX = null!, DT1 = null!, DT2 = null!, DQ = null!, DK = null!, DV = null!, DCtx = null!, DH1 = null!, DH2 = null!;
        internal Tensor DPooled = null!, DProjected = null!;
    }

    internal sealed class LayerActivations
    {
        public Tensor Q = null!, K = null!, V = null!, Ctx = null!, Probs = null!, ProbsDrop = null!, OutDrop = null!;
        public Tensor Y1 = null!, Mean1 = null!, Rstd1 = null!, X1 = null!, HPre = null!, HAct = null!, MlpDrop = null!;
        public Tensor Y2 = null!, Mean2 = null!, Rstd2 = null!;
    }

    public Activations CreateActivations() => new();

    void Ensure(Activations a, int batch, int seqLen)
    {
        int n = batch * seqLen, scores = batch * Config.Heads * seqLen * seqLen;
        if (n <= a.CapacityTokens && scores <= a.CapacityScores && batch <= a.CapacityBatch) return;
        n = Math.Max(n, a.CapacityTokens); scores = Math.Max(scores, a.CapacityScores); batch = Math.Max(batch, a.CapacityBatch);
        int c = Config.Hidden, inter = Config.Intermediate, p = Dimension;
        Tensor A(params int[] shape) => _ops.Allocate(shape);
        a.EmbedSum = A(n, c); a.EmbedMean = A(n); a.EmbedRstd = A(n); a.EmbedDrop = A(n, c);
        a.Stream = new Tensor[Config.Layers + 1];
        for (int i = 0; i <= Config.Layers; i++) a.Stream[i] = A(n, c);
        a.Layers = new LayerActivations[Config.Layers];
        for (int i = 0; i < Config.Layers; i++)
            a.Layers[i] = new LayerActivations
            {
                Q = A(n, c),
                K = A(n, c),
                V = A(n, c),
                Ctx = A(n, c),
                Probs = A(scores),
                ProbsDrop = A(scores),
                OutDrop = A(n, c),
                Y1 = A(n, c),
                Mean1 = A(n),
                Rstd1 = A(n),
                X1 = A(n, c),
                HPre = A(n, inter),
                HAct = A(n, inter),
                MlpDrop = A(n, c),
                Y2 = A(n, c),
                Mean2 = A(n),
                Rstd2 = A(n),
            };
        a.Pooled = A(batch, c); a.Projected = A(batch, p); a.Output = A(batch, p);
        a.DX = A(n, c); a.DT1 = A(n, c); a.DT2 = A(n, c); a.DQ = A(n, c); a.DK = A(n, c); a.DV = A(n, c); a.DCtx = A(n, c);
        a.DH1 = A(n, inter); a.DH2 = A(n, inter); a.DPooled = A(batch, c); a.DProjected = A(batch, p);
        (a.CapacityTokens, a.CapacityScores, a.CapacityBatch) = (n, scores, batch);
    }

    static Tensor Rows(Tensor t, int n) => t.Slice(0, n);
    static Tensor Flat(Tensor t, int count, params int[] shape) => t.Reshape(-1).Slice(0, count).Reshape(shape);

    /// <summary>
    /// Embeddings (B, Dimension) for ids, token types and mask, each (B, T) row-major; a view into the activations,
    /// valid until their next use. Training applies dropout with masks drawn from seed.
    /// </summary>
    public Tensor Forward(Activations a, int batch, int seqLen, int[] ids, int[] types, int[] mask, bool training, ulong seed = 0)
    {
        int n = batch * seqLen, c = Config.Hidden, h = Config.Heads, d = Config.HeadDim;
        if (ids.Length != n || types.Length != n || mask.Length != n) throw new ArgumentException($"ids, token types and mask must each hold {batch} x {seqLen} values");
        if (seqLen > Config.MaxPositions) throw new ArgumentException($"sequence of {seqLen} tokens exceeds max_position_embeddings {Config.MaxPositions}");
        Ensure(a, batch, seqLen);
        bool drop = training && DropoutProbability > 0f;
        (a.Batch, a.SeqLen, a.Ids, a.Types, a.Mask, a.Training) = (batch, seqLen, ids, types, mask, drop);
        if (a.Positions.Length != n) a.Positions = new int[n];
        for (int i = 0; i < n; i++) a.Positions[i] = i % seqLen;
        ulong stream = 0;
        Tensor? Mask(Tensor buffer, int count, params int[] shape)
        {
            stream++;
            if (!drop) return null;
            var m = Flat(buffer, count, shape);
            _train.DropoutMask(m, DropoutProbability, Mix(seed, stream));
            return m;
        }

        // x0 = Dropout(LN(word[ids] + position[t] + type[types]))
        var sum = Rows(a.EmbedSum, n);
        var x = Rows(a.Stream[0], n);
        _ops.Embedding(_word.Value, ids, sum);
        _ops.EmbeddingAddInPlace(_position.Value, a.Positions, sum);
        _ops.EmbeddingAddInPlace(_type.Value, types, sum);
        _train.LayerNormForward(sum, _embedNormG.Value, _embedNormB.Value, Config.LayerNormEps, x, a.EmbedMean, a.EmbedRstd);
        if (Mask(a.EmbedDrop, n * c, n, c) is { } m0) _ops.Mul(x, m0, x);

        var attentionMask = new AttentionMask(Causal: false, StartPosition: 0, KeyLength: seqLen, KeyPadding: mask);
        for (int l = 0; l < _blocks.Length; l++)
        {
            var b = _blocks[l]; var s = a.Layers[l];
            var xIn = Rows(a.Stream[l], n); var xOut = Rows(a.Stream[l + 1], n);
            var q = Rows(s.Q, n); var k = Rows(s.K, n); var v = Rows(s.V, n); var ctx = Rows(s.Ctx, n);
            var probs = Flat(s.Probs, batch * h * seqLen * seqLen, batch, h, seqLen, seqLen);
            var probsDrop = Mask(s.ProbsDrop, batch * h * seqLen * seqLen, batch, h, seqLen, seqLen);
            // y1 = x + Dropout(Wo Attention(Wq x, Wk x, Wv x)); x1 = LN(y1)
            _ops.Linear(xIn, new LinearWeights(b.QueryW.Value, b.QueryB.Value), q);
            _ops.Linear(xIn, new LinearWeights(b.KeyW.Value, b.KeyB.Value), k);
            _ops.Linear(xIn, new LinearWeights(b.ValueW.Value, b.ValueB.Value), v);
            _train.AttentionForward(q.Reshape(batch, seqLen, h, d), k.Reshape(batch, seqLen, h, d), v.Reshape(batch, seqLen, h, d),
                ctx.Reshape(batch, seqLen, h, d), probs, probsDrop, attentionMask);
            var y1 = Rows(s.Y1, n);
            _ops.Linear(ctx, new LinearWeights(b.OutW.Value, b.OutB.Value), y1);
            if (Mask(s.OutDrop, n * c, n, c) is { } m1) _ops.Mul(y1, m1, y1);
            _ops.AddInPlace(y1, xIn);
            var x1 = Rows(s.X1, n);
            _train.LayerNormForward(y1, b.Norm1G.Value, b.Norm1B.Value, Config.LayerNormEps, x1, s.Mean1, s.Rstd1);
            // y2 = x1 + Dropout(Wdown GELU(Wup x1)); x_out = LN(y2)
            var hPre = Rows(s.HPre, n); var hAct = Rows(s.HAct, n);
            _ops.Linear(x1, new LinearWeights(b.UpW.Value, b.UpB.Value), hPre);
            if (Config.HiddenAct == "gelu") _ops.Gelu(hPre, hAct);
            else _ops.GeluTanh(hPre, hAct);
            var y2 = Rows(s.Y2, n);
            _ops.Linear(hAct, new LinearWeights(b.DownW.Value, b.DownB.Value), y2);
            if (Mask(s.MlpDrop, n * c, n, c) is { } m2) _ops.Mul(y2, m2, y2);
            _ops.AddInPlace(y2, x1);
            _train.LayerNormForward(y2, b.Norm2G.Value, b.Norm2B.Value, Config.LayerNormEps, xOut, s.Mean2, s.Rstd2);
        }

        // Head: pool, project (DPR encode_proj), normalise.
        var hidden = Rows(a.Stream[^1], n).Reshape(batch, seqLen, c);
        var pooled = Rows(a.Pooled, batch);
        if (Pooling == EncoderPooling.Cls) _ops.ClsPool(hidden, pooled);
        else _ops.MeanPool(hidden, mask, pooled);
        var projected = pooled;
        if (_projW is not null)
        {
            projected = Rows(a.Projected, batch);
            _ops.Linear(pooled, new LinearWeights(_projW.Value, _projB!.Value), projected);
        }
        if (!Normalize) return projected;
        var output = Rows(a.Output, batch);
        _ops.L2Normalize(projected, output);
        return output;
    }

    /// <summary>Adds to every parameter's gradient the contribution of dEmbeddings (B, Dimension) through the last Forward on a.</summary>
    public void Backward(Activations a, Tensor dEmbeddings)
    {
        int batch = a.Batch, seqLen = a.SeqLen, n = batch * seqLen, c = Config.Hidden, h = Config.Heads, d = Config.HeadDim;
        if (dEmbeddings.Length != batch * Dimension) throw new ArgumentException($"Backward: dEmbeddings does not hold {batch} x {Dimension}");
        bool drop = a.Training;

        // Head, in reverse.
        var dProjected = dEmbeddings;
        var projectedOut = _projW is not null ? Rows(a.Projected, batch) : Rows(a.Pooled, batch);
        if (Normalize)
        {
            dProjected = Rows(a.DProjected, batch);
            _train.L2NormalizeBackward(projectedOut, Rows(a.Output, batch), dEmbeddings, dProjected);
        }
        var dPooled = dProjected;
        if (_projW is not null)
        {
            dPooled = Rows(a.DPooled, batch);
            _train.LinearBackward(Rows(a.Pooled, batch), _projW.Value, dProjected, dPooled, _projW.Grad, _projB!.Grad);
        }
        var dx = Rows(a.DX, n);
        if (Pooling == EncoderPooling.Cls) _train.ClsPoolBackward(dPooled, dx.Reshape(batch, seqLen, c));
        else _train.MeanPoolBackward(dPooled, a.Mask, dx.Reshape(batch, seqLen, c));

        var attentionMask = new AttentionMask(Causal: false, StartPosition: 0, KeyLength: seqLen, KeyPadding: a.Mask);
        var dt1 = Rows(a.DT1, n); var dt2 = Rows(a.DT2, n);
        var dq = Rows(a.DQ, n); var dk = Rows(a.DK, n); var dv = Rows(a.DV, n); var dctx = Rows(a.DCtx, n);
        var dh1 = Rows(a.DH1, n); var dh2 = Rows(a.DH2, n);
        for (int l = _blocks.Length - 1; l >= 0; l--)
        {
            var b = _blocks[l]; var s = a.Layers[l];
            var xIn = Rows(a.Stream[l], n);
            // x_out = LN(y2), y2 = x1 + Dropout(Wdown GELU(Wup x1))
            _train.LayerNormBackward(dx, Rows(s.Y2, n), b.Norm2G.Value, s.Mean2, s.Rstd2, dt1, b.Norm2G.Grad, b.Norm2B.Grad); // dt1 = dy2
            var dm = dt1;
            if (drop) { _ops.Mul(dt1, Rows(s.MlpDrop, n), dt2); dm = dt2; }
            _train.LinearBackward(Rows(s.HAct, n), b.DownW.Value, dm, dh1, b.DownW.Grad, b.DownB.Grad);
            if (Config.HiddenAct == "gelu") _train.GeluBackward(Rows(s.HPre, n), dh1, dh2);
            else _train.GeluTanhBackward(Rows(s.HPre, n), dh1, dh2);
            _ops.Copy(dt1, dx);                                                                   // dx1 = dy2 (residual) ...
            _train.LinearBackward(Rows(s.X1, n), b.UpW.Value, dh2, dx, b.UpW.Grad, b.UpB.Grad, accumulateDx: true); // ... + through the MLP
            // x1 = LN(y1), y1 = x_in + Dropout(Wo Attention(...))
            _train.LayerNormBackward(dx, Rows(s.Y1, n), b.Norm1G.Value, s.Mean1, s.Rstd1, dt1, b.Norm1G.Grad, b.Norm1B.Grad); // dt1 = dy1
            var da = dt1;
            if (drop) { _ops.Mul(dt1, Rows(s.OutDrop, n), dt2); da = dt2; }
            _train.LinearBackward(Rows(s.Ctx, n), b.OutW.Value, da, dctx, b.OutW.Grad, b.OutB.Grad);
            var probs = Flat(s.Probs, batch * h * seqLen * seqLen, batch, h, seqLen, seqLen);
            var probsDrop = drop ? Flat(s.ProbsDrop, batch * h * seqLen * seqLen, batch, h, seqLen, seqLen) : null;
            _train.AttentionBackward(Rows(s.Q, n).Reshape(batch, seqLen, h, d), Rows(s.K, n).Reshape(batch, seqLen, h, d), Rows(s.V, n).Reshape(batch, seqLen, h, d),
                probs, probsDrop, dctx.Reshape(batch, seqLen, h, d), dq.Reshape(batch, seqLen, h, d), dk.Reshape(batch, seqLen, h, d), dv.Reshape(batch, seqLen, h, d), attentionMask);
            _ops.Copy(dt1, dx);                                                                   // dx_in = dy1 (residual) ...
            _train.LinearBackward(xIn, b.QueryW.Value, dq, dx, b.QueryW.Grad, b.QueryB.Grad, accumulateDx: true);
            _train.LinearBackward(xIn, b.KeyW.Value, dk, dx, b.KeyW.Grad, b.KeyB.Grad, accumulateDx: true);
            _train.LinearBackward(xIn, b.ValueW.Value, dv, dx, b.ValueW.Grad, b.ValueB.Grad, accumulateDx: true);
        }

        // x0 = Dropout(LN(sum)), sum = word[ids] + position[t] + type[types]
        if (drop) _ops.Mul(dx, Rows(a.EmbedDrop, n), dx);
        _train.LayerNormBackward(dx, Rows(a.EmbedSum, n), _embedNormG.Value, a.EmbedMean, a.EmbedRstd, dt1, _embedNormG.Grad, _embedNormB.Grad);
        _train.EmbeddingBackward(dt1, a.Ids, _word.Grad);
        _train.EmbeddingBackward(dt1, a.Positions, _position.Grad);
        _train.EmbeddingBackward(dt1, a.Types, _type.Grad);
    }

    public void ZeroGrad()
    {
        foreach (var p in _parameters) _train.Zero(p.Grad);
    }

    static ulong Mix(ulong seed, ulong stream)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + stream * 0xD1B54A32D192ED03UL + 1;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
