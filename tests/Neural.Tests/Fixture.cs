using System.Text.Json;

namespace Rag.Neural.Tests;

/// <summary>A parity fixture written by tools/parity/make_fixtures.py: a tiny HF model directory plus expected.json.</summary>
public sealed class Fixture
{
    readonly JsonElement _root;

    public string Directory { get; }

    public Fixture(string name)
    {
        Directory = Path.Combine(AppContext.BaseDirectory, "Fixtures", name);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(Directory, "expected.json")));
        _root = doc.RootElement.Clone();
    }

    public int[] Ints(string key) => _root.GetProperty(key).EnumerateArray()
        .SelectMany(e => e.ValueKind == JsonValueKind.Array ? e.EnumerateArray().Select(x => x.GetInt32()) : [e.GetInt32()]).ToArray();

    public int[][] IntRows(string key) => _root.GetProperty(key).EnumerateArray().Select(r => r.EnumerateArray().Select(x => x.GetInt32()).ToArray()).ToArray();

    public double Number(string key) => _root.GetProperty(key).GetDouble();

    public JsonElement Element(string key) => _root.GetProperty(key);

    public (int[] Shape, float[] Data) Floats(string key)
    {
        var e = _root.GetProperty(key);
        return (e.GetProperty("shape").EnumerateArray().Select(x => x.GetInt32()).ToArray(),
            e.GetProperty("data").EnumerateArray().Select(x => x.GetSingle()).ToArray());
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, float tolerance = 1e-4f, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0; int at = -1;
        for (int i = 0; i < expected.Length; i++)
        {
            float diff = MathF.Abs(expected[i] - actual[i]);
            if (!(diff <= worst)) { worst = diff; at = i; }
        }
        Assert.True(worst <= tolerance, $"{what}: max abs diff {worst} at {at} (expected {(at >= 0 ? expected[at] : 0)}, got {(at >= 0 ? actual[at] : 0)})");
    }
}
