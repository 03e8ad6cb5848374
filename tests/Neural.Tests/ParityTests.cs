using Rag.Neural.Models;

namespace Rag.Neural.Tests;

/// <summary>Our forward passes against the PyTorch reference (tools/parity), max abs diff &lt;= 1e-4 in fp32.</summary>
public class ParityTests
{
    [Theory]
    [InlineData("bert-st")]
    [InlineData("dpr-question")]
    [InlineData("dpr-context-f16")]
    public void EncoderHiddenStatesAndEmbeddingsMatchReference(string name)
    {
        var f = new Fixture(name);
        using var encoder = NeuralModels.LoadBertEncoder(f.Directory);
        var ids = f.IntRows("input_ids");
        int b = ids.Length, t = ids[0].Length;
        var flatIds = f.Ints("input_ids"); var types = f.Ints("token_type_ids"); var mask = f.Ints("attention_mask");

        var state = encoder.Model.CreateState(b * t);
        var hidden = encoder.Model.Forward(state, b, t, flatIds, types, mask);
        var (shape, expectedHidden) = f.Floats("last_hidden_state");
        Assert.Equal(shape, hidden.Shape);
        Fixture.AssertClose(expectedHidden, hidden.Span, what: "last_hidden_state");

        var vectors = encoder.EncodeIds(b, t, flatIds, types, mask);
        var (embShape, expectedEmb) = f.Floats("embedding");
        Assert.Equal(embShape[1], encoder.Dimension);
        Fixture.AssertClose(expectedEmb, vectors.SelectMany(v => v).ToArray(), what: "embedding");
    }

    [Fact]
    public void BertPoolerMatchesReference()
    {
        var f = new Fixture("bert-st");
        using var encoder = NeuralModels.LoadBertEncoder(f.Directory);
        var ids = f.Ints("input_ids");
        int b = 2, t = ids.Length / 2;
        var hidden = encoder.Model.Forward(encoder.Model.CreateState(b * t), b, t, ids, f.Ints("token_type_ids"), f.Ints("attention_mask"));
        var cls = Tensors.Tensor.Zeros(b, encoder.Model.Config.Hidden);
        var pooled = Tensors.Tensor.Zeros(b, encoder.Model.Config.Hidden);
        Tensors.CpuBackend.Instance.ClsPool(hidden, cls);
        encoder.Model.Pool(cls, pooled);
        Fixture.AssertClose(f.Floats("pooler_output").Data, pooled.Span, what: "pooler_output");
    }

    [Fact]
    public void EncoderDetectsPoolingFromTheDirectory()
    {
        using var st = NeuralModels.LoadBertEncoder(new Fixture("bert-st").Directory);
        Assert.Equal(EncoderPooling.Mean, st.Pooling);
        Assert.True(st.Normalize);
        using var dpr = NeuralModels.LoadBertEncoder(new Fixture("dpr-context-f16").Directory);
        Assert.Equal(EncoderPooling.Cls, dpr.Pooling);
        Assert.False(dpr.Normalize);
        Assert.Equal(16, dpr.Dimension);
    }

    [Theory]
    [InlineData("gpt2", 64)]
    [InlineData("gpt2", 4)]
    [InlineData("llama", 64)]
    [InlineData("llama", 4)]
    [InlineData("llama-linear-f16", 64)]
    [InlineData("qwen2-bf16", 64)]
    [InlineData("qwen2-bf16", 5)]
    public void DecoderPrefillAndCachedDecodeMatchReference(string name, int chunk)
    {
        var f = new Fixture(name);
        var model = NeuralModels.LoadCausalLm(f.Directory);
        var prompt = f.Ints("prompt_ids");
        var fed = f.Ints("decode_ids");
        var state = model.CreateState(prompt.Length + fed.Length, chunk);

        var prefill = Tensors.Tensor.Zeros(prompt.Length, model.VocabSize);
        model.Forward(state, prompt, prefill);
        var (shape, expected) = f.Floats("prefill_logits");
        Assert.Equal(shape, prefill.Shape);
        Fixture.AssertClose(expected, prefill.Span, what: "prefill logits");
        Fixture.AssertClose(expected.AsSpan((prompt.Length - 1) * model.VocabSize, model.VocabSize), state.Logits.Span, what: "last prefill row");

        var (_, decode) = f.Floats("decode_logits");
        for (int i = 0; i < fed.Length; i++)
        {
            model.Forward(state, [fed[i]]);
            Fixture.AssertClose(decode.AsSpan(i * model.VocabSize, model.VocabSize), state.Logits.Span, what: $"decode step {i}");
        }
        Assert.Equal(prompt.Length + fed.Length, state.Position);
    }
}
