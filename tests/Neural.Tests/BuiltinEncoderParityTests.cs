using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Rag.Neural.Builtin;
using Rag.Neural.Models;
using Rag.Neural.Weights;
using Rag.Testing;
using Rag.Tokenizers;
using Xunit.Abstractions;

namespace Rag.Neural.Tests;

/// <summary>
/// The built-in encoders on our engine against ONNX Runtime running the packages' own model.onnx, on the same token ids:
/// 50 SQuAD paragraphs and 50 questions, our padded length-sorted batches against ONNX Runtime on each text alone.
/// </summary>
public class BuiltinEncoderParityTests(ITestOutputHelper output)
{
    const string SquadFile = "squad-v1.1/dev-v1.1.json";

    public static TheoryData<string> Encoders => [.. BuiltinEncoders.All.Select(e => e.Name)];

    [SkippableTheory]
    [MemberData(nameof(Encoders))]
    public void Embeddings_match_onnx_runtime_on_squad_text(string name)
    {
        var builtin = BuiltinEncoders.Find(name);
        var squad = SharedData.File(SquadFile);
        Skip.If(squad is null, SharedData.MissingReason(SquadFile));
        var (assembly, modelResource, _) = Restored(builtin);
        var texts = SquadTexts(squad!, 50, 50);

        using var ours = NeuralModels.LoadBuiltinEncoder(builtin);
        Assert.Equal(384, ours.Dimension);
        var batched = ours.Encode(texts);

        using var session = new InferenceSession(ReadResource(assembly, modelResource), new SessionOptions { IntraOpNumThreads = 1 });
        var tokenizer = (WordPieceTokenizer)ours.Tokenizer;
        double worstCos = 1, worstDiff = 0;
        for (int i = 0; i < texts.Count; i++)
        {
            var one = tokenizer.EncodeBatch([texts[i]], ours.MaxTokens);
            var reference = RunOnnx(session, one, builtin.Pooling);
            var (cos, diff) = Compare(batched[i], reference);
            worstCos = Math.Min(worstCos, cos);
            worstDiff = Math.Max(worstDiff, diff);
            Assert.True(cos >= 0.99999 && diff <= 1e-4, $"text {i}: cos {cos:F7}, max abs diff {diff:E2} ({texts[i][..Math.Min(60, texts[i].Length)]}...)");
        }
        output.WriteLine($"{builtin.Spec}: {texts.Count} texts, worst cos {worstCos:F7}, worst max abs diff {worstDiff:E2}");

        // Our batch (padding included) against our own single-text encodings.
        for (int i = 0; i < 8; i++)
        {
            var alone = ours.Encode([texts[i * 12]])[0];
            var (cos, diff) = Compare(batched[i * 12], alone);
            Assert.True(cos >= 0.99999 && diff <= 1e-4, $"text {i * 12}: batch vs alone cos {cos:F7}, diff {diff:E2}");
        }
    }

    [SkippableFact]
    public void Inferred_shapes_are_the_published_ones()
    {
        foreach (var builtin in BuiltinEncoders.All)
        {
            Restored(builtin);
            using var encoder = NeuralModels.LoadBuiltinEncoder(builtin);
            var c = encoder.Model.Config;
            Assert.Equal((30522, 384, 6, 12, 1536, 512, 2), (c.VocabSize, c.Hidden, c.Layers, c.Heads, c.Intermediate, c.MaxPositions, c.TypeVocabSize));
            Assert.Equal(1e-12f, c.LayerNormEps);
            Assert.Equal("gelu", c.HiddenAct);
            Assert.Equal(builtin.Pooling, encoder.Pooling);
            Assert.True(encoder.Normalize);
        }
    }

    [Fact]
    public void Unknown_builtin_names_list_the_known_ones()
    {
        var e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadEncoder("builtin:bge-large"));
        Assert.Contains("builtin:arctic-embed-xs", e.Message);
        Assert.Contains("builtin:all-MiniLM-L6-v2", e.Message);
    }

    /// <summary>The package's DLL and model resource, or a skip naming the package where it could not be restored.</summary>
    static (string Assembly, ManifestResource Model, ManifestResource Vocabulary) Restored(BuiltinEncoder builtin)
    {
        try { return BuiltinEncoders.Resources(builtin); }
        catch (ModelLoadException e) { throw new SkipException($"skipped: {e.Message}"); }
    }

    static byte[] ReadResource(string assembly, ManifestResource resource)
    {
        using var file = File.OpenRead(assembly);
        file.Position = resource.Offset;
        var bytes = new byte[resource.Length];
        file.ReadExactly(bytes);
        return bytes;
    }

    static float[] RunOnnx(InferenceSession session, EncodedBatch batch, EncoderPooling pooling)
    {
        int t = batch.SequenceLength;
        var shape = new[] { 1, t };
        DenseTensor<long> Long(int[] values) => new(values.Select(v => (long)v).ToArray(), shape);
        var inputs = new List<NamedOnnxValue>
        {
            NamedOnnxValue.CreateFromTensor("input_ids", Long(batch.InputIds)),
            NamedOnnxValue.CreateFromTensor("attention_mask", Long(batch.AttentionMask)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", Long(batch.TokenTypeIds)),
        };
        using var results = session.Run(inputs);
        var hidden = results.First(r => r.Name == "last_hidden_state").AsTensor<float>(); // (1, T, C)
        int c = hidden.Dimensions[2];
        var pooled = new double[c];
        int count = 0;
        for (int i = 0; i < t; i++)
        {
            if (batch.AttentionMask[i] == 0) continue;
            if (pooling == EncoderPooling.Cls && i > 0) break;
            for (int j = 0; j < c; j++) pooled[j] += hidden[0, i, j];
            count++;
        }
        double norm = Math.Sqrt(pooled.Sum(v => (v / count) * (v / count)));
        return pooled.Select(v => (float)(v / count / norm)).ToArray();
    }

    static (double Cos, double MaxAbsDiff) Compare(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        double dot = 0, na = 0, nb = 0, diff = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i];
            diff = Math.Max(diff, Math.Abs(a[i] - b[i]));
        }
        return (dot / Math.Sqrt(na * nb), diff);
    }

    static List<string> SquadTexts(string path, int paragraphs, int questions)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var ps = new List<string>();
        var qs = new List<string>();
        int seen = 0;
        foreach (var article in doc.RootElement.GetProperty("data").EnumerateArray())
            foreach (var p in article.GetProperty("paragraphs").EnumerateArray())
            {
                // Every 40th paragraph and its first question: all 48 articles, short texts and the longest.
                if (seen++ % 40 != 0) continue;
                if (ps.Count < paragraphs) ps.Add(p.GetProperty("context").GetString()!);
                foreach (var qa in p.GetProperty("qas").EnumerateArray().Take(1))
                    if (qs.Count < questions) qs.Add(qa.GetProperty("question").GetString()!);
            }
        return [.. ps, .. qs];
    }
}
