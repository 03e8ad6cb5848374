namespace Rag.Neural.Generation;

/// <summary>
/// Picks the next token from logits. Owns its RNG (seeded from GenerationOptions.Seed) and its work buffers,
/// so a generation allocates nothing per token.
/// </summary>
public sealed class Sampler
{
    readonly GenerationOptions _options;
    readonly Random _rng;
    readonly float[] _work;    // (V) penalised, temperature-scaled logits
    readonly float[] _keys;    // (V) sort keys
    readonly int[] _order;     // (V) candidate ids, most likely first
    readonly bool[] _seen;     // (V) tokens in prompt or output, for the repetition penalty

    public Sampler(GenerationOptions options, int vocabSize)
    {
        if (options.Temperature < 0 || float.IsNaN(options.Temperature)) throw new ArgumentOutOfRangeException(nameof(options), "Temperature must be >= 0");
        if (options.TopK < 0) throw new ArgumentOutOfRangeException(nameof(options), "TopK must be >= 0");
        if (!(options.TopP > 0 && options.TopP <= 1)) throw new ArgumentOutOfRangeException(nameof(options), "TopP must be in (0, 1]");
        if (!(options.RepetitionPenalty > 0)) throw new ArgumentOutOfRangeException(nameof(options), "RepetitionPenalty must be > 0");
        _options = options;
        _rng = options.Seed is { } seed ? new Random(seed) : new Random();
        _work = new float[vocabSize];
        _keys = new float[vocabSize];
        _order = new int[vocabSize];
        _seen = new bool[vocabSize];
    }

    /// <summary>Marks a token as present (prompt or generated) for the repetition penalty.</summary>
    public void Observe(int token)
    {
        if ((uint)token < (uint)_seen.Length) _seen[token] = true;
    }

    public int Next(ReadOnlySpan<float> logits)
    {
        int v = _work.Length;
        if (logits.Length != v) throw new ArgumentException($"{logits.Length} logits for a vocabulary of {v}");
        logits.CopyTo(_work);
        float penalty = _options.RepetitionPenalty;
        if (penalty != 1f)
        {
            // CTRL (Keskar et al. 2019): make seen tokens less likely whatever their logit's sign.
            for (int i = 0; i < v; i++)
                if (_seen[i]) _work[i] = _work[i] > 0 ? _work[i] / penalty : _work[i] * penalty;
        }
        if (_options.Temperature == 0f) return System.Numerics.Tensors.TensorPrimitives.IndexOfMax(_work);

        float invT = 1f / _options.Temperature;
        for (int i = 0; i < v; i++) { _order[i] = i; _keys[i] = -_work[i] * invT; }
        Array.Sort(_keys, _order); // ascending keys = descending logits
        int n = v;
        // Top-k: keep only the k most likely tokens.
        if (_options.TopK > 0 && _options.TopK < n) n = _options.TopK;
        // Softmax over the candidates (keys hold -logit/T, so the most likely has the smallest key).
        double max = -_keys[0], total = 0;
        for (int i = 0; i < n; i++) { double p = Math.Exp(-_keys[i] - max); _keys[i] = (float)p; total += p; }
        // Top-p (nucleus, Holtzman et al. 2020): keep the smallest most-likely prefix whose mass reaches p.
        if (_options.TopP < 1f)
        {
            double cumulative = 0;
            for (int i = 0; i < n; i++)
            {
                cumulative += _keys[i];
                if (cumulative >= _options.TopP * total) { n = i + 1; total = cumulative; break; }
            }
        }
        double u = _rng.NextDouble() * total;
        for (int i = 0; i < n; i++)
        {
            u -= _keys[i];
            if (u < 0) return _order[i];
        }
        return _order[n - 1];
    }
}

/// <summary>
/// Holds back generated text that might be the start of a stop string, so a stop string is never emitted,
/// even when it arrives split across several tokens.
/// </summary>
public sealed class StopStringFilter(IReadOnlyList<string> stops)
{
    string _pending = "";

    /// <summary>Text safe to emit now, and whether a stop string was reached (generation should end).</summary>
    public (string Emit, bool Stopped) Push(string piece)
    {
        if (stops.Count == 0) return (piece, false);
        _pending += piece;
        int first = -1;
        foreach (var s in stops)
        {
            if (s.Length == 0) continue;
            int at = _pending.IndexOf(s, StringComparison.Ordinal);
            if (at >= 0 && (first < 0 || at < first)) first = at;
        }
        if (first >= 0)
        {
            var before = _pending[..first];
            _pending = "";
            return (before, true);
        }
        int hold = 0;
        foreach (var s in stops)
            for (int len = Math.Min(s.Length - 1, _pending.Length); len > hold; len--)
                if (_pending.AsSpan().EndsWith(s.AsSpan(0, len), StringComparison.Ordinal)) { hold = len; break; }
        var emit = _pending[..^hold];
        _pending = _pending[^hold..];
        return (emit, false);
    }

    /// <summary>At the end of generation: whatever was held back (it did not become a stop string).</summary>
    public string Flush()
    {
        var rest = _pending;
        _pending = "";
        return rest;
    }
}
