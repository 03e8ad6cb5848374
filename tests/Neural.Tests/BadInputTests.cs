using System.Text;
using System.Text.Json.Nodes;
using Rag.Neural.Tensors;
using Rag.Neural.Weights;
using Rag.Testing;

namespace Rag.Neural.Tests;

/// <summary>Broken model directories fail with a ModelLoadException that names the file and the tensor.</summary>
public class BadInputTests
{
    static List<SafetensorsWriter.Entry> ReadAll(string path)
    {
        using var f = SafetensorsFile.Open(path);
        return f.Tensors.Values.OrderBy(t => t.Begin).Select(t => new SafetensorsWriter.Entry(t.Name, t.Shape, f.Load(t.Name).ToArray())).ToList();
    }

    static string Weights(string dir) => Path.Combine(dir, "model.safetensors");

    [Fact]
    public void MissingDirectoryOrConfig()
    {
        var e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadEncoder("/nonexistent/model"));
        Assert.Contains("/nonexistent/model", e.Message);
        using var dir = new TempDir();
        e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Contains("config.json", e.Message);
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), "{ not json");
        e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void TruncatedFileNamesFileAndTensor()
    {
        using var dir = new TempDir();
        TinyModels.WriteDecoder(dir.Path, "qwen2");
        var bytes = File.ReadAllBytes(Weights(dir.Path));
        File.WriteAllBytes(Weights(dir.Path), bytes[..(bytes.Length * 2 / 3)]);
        var e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Contains("model.safetensors", e.Message);
        Assert.NotNull(e.TensorName);
        Assert.Contains(e.TensorName!, e.Message);
        Assert.Contains("overrun", e.Message);

        File.WriteAllBytes(Weights(dir.Path), bytes[..5]);
        e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Contains("truncated", e.Message);
        File.WriteAllBytes(Weights(dir.Path), bytes[..40]); // header length says more than there is
        e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Contains("header length", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    static void WriteRawSafetensors(string path, string headerJson, int dataBytes)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        using var fs = File.Create(path);
        fs.Write(BitConverter.GetBytes((ulong)header.Length));
        fs.Write(header);
        fs.Write(new byte[dataBytes]);
    }

    [Fact]
    public void HeaderOffsetsOverrunningTheFile()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "model.safetensors");
        WriteRawSafetensors(path, """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", 16);
        var e = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));
        Assert.Equal("b", e.TensorName);
        Assert.Equal(path, e.FilePath);
        Assert.Contains("overrun", e.Message);

        WriteRawSafetensors(path, """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", 8);
        e = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));
        Assert.Equal("a", e.TensorName);
        Assert.Contains("does not match shape", e.Message);
    }

    [Fact]
    public void UnknownDtypeNamesTheTensor()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "model.safetensors");
        WriteRawSafetensors(path, """{"__metadata__":{"format":"pt"},"w":{"dtype":"I8","shape":[4],"data_offsets":[0,4]}}""", 4);
        var e = Assert.Throws<ModelLoadException>(() => SafetensorsFile.Open(path));
        Assert.Equal("w", e.TensorName);
        Assert.Contains("I8", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void MissingTensorNamesFileAndTensor()
    {
        using var dir = new TempDir();
        TinyModels.WriteDecoder(dir.Path, "llama");
        var entries = ReadAll(Weights(dir.Path)).Where(t => t.Name != "model.layers.1.mlp.up_proj.weight").ToList();
        SafetensorsWriter.Write(Weights(dir.Path), entries);
        var e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Equal("model.layers.1.mlp.up_proj.weight", e.TensorName);
        Assert.Contains("model.safetensors", e.Message);
        Assert.Contains("missing", e.Message);
    }

    [Fact]
    public void UnexpectedTensorIsReported()
    {
        using var dir = new TempDir();
        TinyModels.WriteBertEncoder(dir.Path, kind: "sentence-transformer");
        var entries = ReadAll(Weights(dir.Path));
        entries.Add(new("encoder.layer.9.attention.self.query.weight", [2, 2], new float[4]));
        SafetensorsWriter.Write(Weights(dir.Path), entries);
        var e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadEncoder(dir.Path));
        Assert.Equal("encoder.layer.9.attention.self.query.weight", e.TensorName);
    }

    [Fact]
    public void ShapeDisagreeingWithConfig()
    {
        using var dir = new TempDir();
        TinyModels.WriteBertEncoder(dir.Path);
        var configPath = Path.Combine(dir.Path, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["intermediate_size"] = 100;
        File.WriteAllText(configPath, config.ToJsonString());
        var e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadEncoder(dir.Path));
        Assert.Equal("question_encoder.bert_model.encoder.layer.0.intermediate.dense.weight", e.TensorName);
        Assert.Contains("config.json", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void InvalidConfigAndUnknownArchitecture()
    {
        using var dir = new TempDir();
        TinyModels.WriteDecoder(dir.Path, "qwen2");
        var configPath = Path.Combine(dir.Path, "config.json");
        var original = File.ReadAllText(configPath);
        var config = JsonNode.Parse(original)!;
        config["model_type"] = "t5";
        File.WriteAllText(configPath, config.ToJsonString());
        var e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Contains("t5", e.Message);
        Assert.Contains("config.json", e.Message);
        e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadEncoder(dir.Path));
        Assert.Contains("unknown encoder architecture", e.Message);

        config = JsonNode.Parse(original)!;
        config["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 };
        File.WriteAllText(configPath, config.ToJsonString());
        e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Contains("yarn", e.Message);

        config = JsonNode.Parse(original)!;
        config["num_key_value_heads"] = 3; // 4 heads are not a multiple of 3
        File.WriteAllText(configPath, config.ToJsonString());
        e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadGenerator(dir.Path));
        Assert.Contains("key/value heads", e.Message);
    }

    [Fact]
    public void ShardedCheckpointLoadsLikeASingleFile()
    {
        using var single = new TempDir();
        using var sharded = new TempDir();
        TinyModels.WriteDecoder(single.Path, "llama");
        TinyModels.WriteDecoder(sharded.Path, "llama");
        var entries = ReadAll(Weights(sharded.Path));
        File.Delete(Weights(sharded.Path));
        var first = entries.Take(entries.Count / 2).ToList(); var second = entries.Skip(entries.Count / 2).ToList();
        SafetensorsWriter.Write(Path.Combine(sharded.Path, "model-00001-of-00002.safetensors"), first);
        SafetensorsWriter.Write(Path.Combine(sharded.Path, "model-00002-of-00002.safetensors"), second);
        var map = new JsonObject();
        foreach (var t in first) map[t.Name] = "model-00001-of-00002.safetensors";
        foreach (var t in second) map[t.Name] = "model-00002-of-00002.safetensors";
        File.WriteAllText(Path.Combine(sharded.Path, "model.safetensors.index.json"), new JsonObject { ["metadata"] = new JsonObject(), ["weight_map"] = map }.ToJsonString());

        var a = NeuralModels.LoadCausalLm(single.Path); var b = NeuralModels.LoadCausalLm(sharded.Path);
        var sa = a.CreateState(8); var sb = b.CreateState(8);
        a.Forward(sa, [5, 6, 7]); b.Forward(sb, [5, 6, 7]);
        Assert.Equal(sa.Logits.ToArray(), sb.Logits.ToArray());

        // An index that points at a shard without the tensor names both.
        map[first[0].Name] = "model-00002-of-00002.safetensors";
        File.WriteAllText(Path.Combine(sharded.Path, "model.safetensors.index.json"), new JsonObject { ["weight_map"] = map.DeepClone() }.ToJsonString());
        var e = Assert.Throws<ModelLoadException>(() => NeuralModels.LoadCausalLm(sharded.Path));
        Assert.Equal(first[0].Name, e.TensorName);
    }

    [Fact]
    public void HalfPrecisionRoundTripsThroughWriterAndReader()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "m.safetensors");
        float[] values = [0f, 1f, -2.5f, 3.1415927f, 65504f, 1e-3f];
        SafetensorsWriter.Write(path, [new("h", [6], values, DType.F16), new("b", [2, 3], values, DType.BF16), new("f", [6], values)]);
        using var f = SafetensorsFile.Open(path);
        Assert.Equal(values.Select(v => (float)(Half)v), f.Load("h").ToArray());
        Assert.Equal(values, f.Load("f").ToArray());
        var bf = f.Load("b");
        Assert.Equal([2, 3], bf.Shape);
        for (int i = 0; i < values.Length; i++) Assert.True(Math.Abs(values[i] - bf.Span[i]) <= Math.Abs(values[i]) / 128, $"bf16 {values[i]} -> {bf.Span[i]}");
    }
}
