namespace Rag.Neural.Tensors;

/// <summary>How RoPE frequencies are stretched for longer contexts (HF config "rope_scaling").</summary>
public sealed record RopeScaling(string Type, float Factor, float LowFreqFactor = 1f, float HighFreqFactor = 4f, int OriginalMaxPositions = 8192);

/// <summary>
/// Precomputed cos/sin for rotary embeddings: angle(p, i) = p * invFreq[i], invFreq[i] = theta^(-2i/D), i &lt; D/2.
/// Scaling "linear" divides every frequency by the factor (Chen et al. 2023, position interpolation);
/// "llama3" leaves high frequencies alone, divides low ones by the factor and blends in between.
/// </summary>
public sealed class RopeTable
{
    public int HeadDim { get; }
    public int MaxPositions { get; }
    internal float[] Cos { get; }  // (MaxPositions, HeadDim / 2)
    internal float[] Sin { get; }

    public RopeTable(int headDim, int maxPositions, float theta, RopeScaling? scaling = null)
    {
        if (headDim % 2 != 0) throw new ArgumentException($"RoPE head dimension {headDim} must be even");
        HeadDim = headDim;
        MaxPositions = maxPositions;
        int half = headDim / 2;
        var invFreq = new float[half];
        for (int i = 0; i < half; i++) invFreq[i] = 1f / MathF.Pow(theta, 2f * i / headDim);
        if (scaling is not null) Scale(invFreq, scaling);
        Cos = new float[maxPositions * half];
        Sin = new float[maxPositions * half];
        for (int p = 0; p < maxPositions; p++)
            for (int i = 0; i < half; i++)
            {
                float angle = p * invFreq[i]; // fp32 product, as the reference computes it
                Cos[p * half + i] = (float)Math.Cos(angle);
                Sin[p * half + i] = (float)Math.Sin(angle);
            }
    }

    static void Scale(float[] invFreq, RopeScaling s)
    {
        switch (s.Type)
        {
            case "linear":
                for (int i = 0; i < invFreq.Length; i++) invFreq[i] /= s.Factor;
                break;
            case "llama3":
                float lowWavelen = s.OriginalMaxPositions / s.LowFreqFactor;
                float highWavelen = s.OriginalMaxPositions / s.HighFreqFactor;
                for (int i = 0; i < invFreq.Length; i++)
                {
                    float f = invFreq[i], wavelen = 2f * MathF.PI / f;
                    if (wavelen < highWavelen) continue;
                    if (wavelen > lowWavelen) { invFreq[i] = f / s.Factor; continue; }
                    float smooth = (s.OriginalMaxPositions / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                    invFreq[i] = (1f - smooth) * f / s.Factor + smooth * f;
                }
                break;
            case "default":
                break;
            default:
                throw new NotSupportedException($"rope_scaling type \"{s.Type}\" is not supported (supported: linear, llama3)");
        }
    }
}
