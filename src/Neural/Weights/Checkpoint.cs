using System.Text.Json;
using Rag.Neural.Tensors;

namespace Rag.Neural.Weights;

/// <summary>
/// All tensors of a model: a directory's model.safetensors or the shards listed in model.safetensors.index.json,
/// or the initializers of an ONNX export (<see cref="OnnxWeights"/>).
/// Models take tensors by checkpoint key with the shape config.json implies; whatever is left unclaimed at the end
/// is an error (a loud failure beats silently ignoring weights the model should have used).
/// </summary>
public sealed class Checkpoint : IDisposable
{
    readonly List<ITensorFile> _files = [];
    readonly Dictionary<string, ITensorFile> _byName = new(StringComparer.Ordinal);
    readonly HashSet<string> _claimed = new(StringComparer.Ordinal);

    public string Directory { get; }
    public IEnumerable<string> Names => _byName.Keys;

    Checkpoint(string directory) => Directory = directory;

    public static Checkpoint Open(string directory)
    {
        var c = new Checkpoint(directory);
        try
        {
            var single = Path.Combine(directory, "model.safetensors");
            var index = Path.Combine(directory, "model.safetensors.index.json");
            if (File.Exists(single)) c.Add(SafetensorsFile.Open(single));
            else if (File.Exists(index)) c.OpenShards(index);
            else throw new ModelLoadException("no model.safetensors or model.safetensors.index.json in the model directory", directory);
            return c;
        }
        catch
        {
            c.Dispose();
            throw;
        }
    }

    /// <summary>A checkpoint over one already-open tensor file (it is disposed with the checkpoint).</summary>
    public static Checkpoint FromFile(ITensorFile file)
    {
        var c = new Checkpoint(System.IO.Path.GetDirectoryName(file.Path) ?? ".");
        c.Add(file);
        return c;
    }

    void OpenShards(string indexPath)
    {
        Dictionary<string, string> weightMap;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            weightMap = doc.RootElement.GetProperty("weight_map").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ModelLoadException($"malformed shard index: {e.Message}", indexPath, null, e);
        }
        var shards = new Dictionary<string, ITensorFile>(StringComparer.Ordinal);
        foreach (var shard in weightMap.Values.Distinct())
        {
            var shardPath = Path.Combine(Directory, shard);
            if (Path.GetFileName(shard) != shard) throw new ModelLoadException($"shard name \"{shard}\" must be a plain file name", indexPath);
            var f = SafetensorsFile.Open(shardPath);
            shards[shard] = f;
            _files.Add(f);
        }
        foreach (var (tensor, shard) in weightMap)
        {
            if (!shards[shard].Tensors.ContainsKey(tensor))
                throw new ModelLoadException($"the shard index places this tensor in {shard}, which does not hold it", Path.Combine(Directory, shard), tensor);
            _byName[tensor] = shards[shard];
        }
    }

    void Add(ITensorFile f)
    {
        _files.Add(f);
        foreach (var name in f.Tensors.Keys) _byName[name] = f;
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>The tensor as fp32 with exactly the expected shape (what config.json implies).</summary>
    public Tensor Take(string name, params int[] expectedShape) => Claim(name, expectedShape).Load(name);

    /// <summary>The file holding the tensor, once its shape is checked against the expected one; marks it used.</summary>
    ITensorFile Claim(string name, int[] expectedShape)
    {
        if (!_byName.TryGetValue(name, out var file))
            throw new ModelLoadException("missing tensor", Path.Combine(Directory, _files.Count == 1 ? Path.GetFileName(_files[0].Path) : "model.safetensors.index.json"), name);
        var info = file.Tensors[name];
        if (!info.Shape.SequenceEqual(expectedShape))
            throw new ModelLoadException($"shape [{string.Join(", ", info.Shape)}] disagrees with config.json, which implies [{string.Join(", ", expectedShape)}]", file.Path, name);
        _claimed.Add(name);
        return file;
    }

    /// <summary>
    /// A linear layer "key.weight" (out, in) and "key.bias" (out), the weight in whichever layout the file stores it
    /// (<see cref="LinearWeights.WeightIsInOut"/> for ONNX's (in, out)), so that no transposed copy is made.
    /// </summary>
    public LinearWeights TakeLinear(string key, int outFeatures, int inFeatures, bool bias = true)
    {
        var name = key + ".weight";
        var (weight, transposed) = Claim(name, [outFeatures, inFeatures]).LoadAsStored(name);
        return new LinearWeights(weight, bias ? Take(key + ".bias", outFeatures) : null, WeightIsInOut: transposed);
    }

    /// <summary>Fails on any tensor no model field claimed, except buffers matching the ignorable suffixes.</summary>
    public void EnsureAllClaimed(params string[] ignorableSuffixes) =>
        EnsureAllClaimed(n => ignorableSuffixes.Any(s => n.EndsWith(s, StringComparison.Ordinal)));

    /// <summary>Fails on any tensor no model field claimed and the predicate does not excuse.</summary>
    public void EnsureAllClaimed(Func<string, bool> ignorable)
    {
        var left = _byName.Keys.Where(n => !_claimed.Contains(n) && !ignorable(n)).Order().ToList();
        if (left.Count > 0)
            throw new ModelLoadException($"unexpected tensor(s) the model does not use: {string.Join(", ", left.Take(8))}{(left.Count > 8 ? ", ..." : "")}",
                _byName[left[0]].Path, left[0]);
    }

    public void Dispose()
    {
        foreach (var f in _files) f.Dispose();
    }
}
