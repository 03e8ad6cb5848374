using System.Numerics.Tensors;
using System.Text;
using System.Text.Json;
using Rag.Neural.Tensors;
using Tensor = Rag.Neural.Tensors.Tensor;

namespace Rag.Neural.Weights;

/// <summary>One tensor's entry in a safetensors header: byte range relative to the data section.</summary>
public sealed record TensorInfo(string Name, DType DType, int[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);
}

/// <summary>A file of named tensors that a <see cref="Checkpoint"/> takes from: safetensors, or an ONNX model's initializers.</summary>
public interface ITensorFile : IDisposable
{
    string Path { get; }
    IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    /// <summary>The named tensor as fp32; the returned tensor keeps the file alive.</summary>
    Tensor Load(string name);

    /// <summary>
    /// The tensor as the file stores it, and whether that is the transpose of its Hugging Face shape (ONNX keeps
    /// MatMul weights (in, out)): a linear layer can run on either layout, so the weight needs no transposed copy.
    /// </summary>
    (Tensor Tensor, bool Transposed) LoadAsStored(string name) => (Load(name), false);
}

/// <summary>
/// A memory-mapped safetensors file (8-byte little-endian header length, JSON header, raw data).
/// Every header entry is validated on open; F32 tensors are views of the mapping (no copy), F16/BF16 are widened.
/// </summary>
public sealed unsafe class SafetensorsFile : ITensorFile
{
    readonly MappedRegion _region;
    readonly byte* _base;
    readonly long _dataStart;
    bool _disposed;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    SafetensorsFile(string path, MappedRegion region, long dataStart, Dictionary<string, TensorInfo> tensors, Dictionary<string, string> metadata)
    {
        Path = path; _region = region; _base = region.Pointer; _dataStart = dataStart; Tensors = tensors; Metadata = metadata;
    }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException("safetensors file not found", path);
        long length = new FileInfo(path).Length;
        if (length < 8) throw new ModelLoadException($"file is truncated: {length} bytes, too short for the 8-byte header length", path);
        var region = MappedRegion.Open(path);
        try
        {
            byte* ptr = region.Pointer;
            ulong headerLength = *(ulong*)ptr;
            if (headerLength > (ulong)(length - 8))
                throw new ModelLoadException($"header length {headerLength} overruns the file of {length} bytes (truncated?)", path);
            long dataStart = 8 + (long)headerLength;
            var (tensors, metadata) = ParseHeader(path, new ReadOnlySpan<byte>(ptr + 8, (int)headerLength), length - dataStart);
            return new SafetensorsFile(path, region, dataStart, tensors, metadata);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    static (Dictionary<string, TensorInfo>, Dictionary<string, string>) ParseHeader(string path, ReadOnlySpan<byte> json, long dataLength)
    {
        var tensors = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json.ToArray()); }
        catch (JsonException e) { throw new ModelLoadException($"header is not valid JSON: {e.Message}", path, null, e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new ModelLoadException("header is not a JSON object", path);
            foreach (var entry in doc.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    if (entry.Value.ValueKind == JsonValueKind.Object)
                        foreach (var m in entry.Value.EnumerateObject()) metadata[m.Name] = m.Value.ToString();
                    continue;
                }
                tensors[entry.Name] = ParseEntry(path, entry.Name, entry.Value, dataLength);
            }
        }
        return (tensors, metadata);
    }

    static TensorInfo ParseEntry(string path, string name, JsonElement e, long dataLength)
    {
        try
        {
            var dtypeName = e.GetProperty("dtype").GetString();
            var dtype = dtypeName switch
            {
                "F32" => DType.F32,
                "F16" => DType.F16,
                "BF16" => DType.BF16,
                _ => throw new ModelLoadException($"unsupported dtype \"{dtypeName}\" (supported: F32, F16, BF16)", path, name),
            };
            var shape = e.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()).ToArray();
            if (shape.Any(d => d < 0)) throw new ModelLoadException($"negative dimension in shape [{string.Join(", ", shape)}]", path, name);
            var offsets = e.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
                throw new ModelLoadException($"malformed data_offsets [{string.Join(", ", offsets)}]", path, name);
            if (offsets[1] > dataLength)
                throw new ModelLoadException($"data_offsets [{offsets[0]}, {offsets[1]}] overrun the data section of {dataLength} bytes (truncated file?)", path, name);
            var info = new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
            long expected = info.ElementCount * SizeOf(dtype);
            if (offsets[1] - offsets[0] != expected)
                throw new ModelLoadException($"byte range of {offsets[1] - offsets[0]} does not match shape [{string.Join(", ", shape)}] of {dtypeName} ({expected} bytes)", path, name);
            return info;
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException($"malformed header entry: {ex.Message}", path, name, ex);
        }
    }

    public static int SizeOf(DType t) => t == DType.F32 ? 4 : 2;

    /// <summary>The named tensor as fp32. F32 data stays in the mapping; the returned tensor keeps this file alive.</summary>
    public Tensor Load(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!Tensors.TryGetValue(name, out var info)) throw new ModelLoadException("tensor not found", Path, name);
        byte* src = _base + _dataStart + info.Begin;
        long n = info.ElementCount;
        if (info.DType == DType.F32 && ((nint)src & 3) == 0)
            return new Tensor(new BorrowedStorage((float*)src, n, this), 0, info.Shape);
        var storage = new NativeStorage(n);
        var dst = storage.Pointer;
        const int Chunk = 1 << 20;
        for (long start = 0; start < n; start += Chunk)
        {
            int len = (int)Math.Min(Chunk, n - start);
            var outSpan = new Span<float>(dst + start, len);
            switch (info.DType)
            {
                case DType.F32: new ReadOnlySpan<byte>(src + start * 4, len * 4).CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(outSpan)); break;
                case DType.F16: TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(src + start * 2, len), outSpan); break;
                case DType.BF16:
                    // bfloat16 is the top half of an IEEE float32.
                    var bf = new ReadOnlySpan<ushort>(src + start * 2, len);
                    for (int i = 0; i < len; i++) outSpan[i] = BitConverter.Int32BitsToSingle(bf[i] << 16);
                    break;
            }
        }
        return new Tensor(storage, 0, info.Shape);
    }

    public void Dispose()
    {
        // Tensors borrowed from the mapping keep this object reachable, so the mapping is only
        // released here on explicit request; callers dispose only when no weights are in use.
        if (_disposed) return;
        _disposed = true;
        _region.Dispose();
    }
}

/// <summary>Writes safetensors files (used by tests, tiny model fixtures and, later, training checkpoints).</summary>
public static class SafetensorsWriter
{
    public sealed record Entry(string Name, int[] Shape, float[] Data, DType DType = DType.F32);

    public static void Write(string path, IEnumerable<Entry> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = entries.ToList();
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        if (metadata is { Count: > 0 }) header["__metadata__"] = metadata;
        long offset = 0;
        foreach (var e in list)
        {
            long n = e.Shape.Aggregate(1L, (a, d) => a * d);
            if (n != e.Data.Length) throw new ArgumentException($"tensor {e.Name}: {e.Data.Length} values for shape [{string.Join(", ", e.Shape)}]");
            long bytes = n * SafetensorsFile.SizeOf(e.DType);
            header[e.Name] = new Dictionary<string, object> { ["dtype"] = e.DType.ToString(), ["shape"] = e.Shape, ["data_offsets"] = new[] { offset, offset + bytes } };
            offset += bytes;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        int padded = (json.Length + 7) / 8 * 8; // keep the data section 8-byte aligned
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        using var w = new BinaryWriter(fs);
        w.Write((ulong)padded);
        w.Write(json);
        for (int i = json.Length; i < padded; i++) w.Write((byte)' ');
        foreach (var e in list)
        {
            switch (e.DType)
            {
                case DType.F32: w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(e.Data.AsSpan())); break;
                case DType.F16: foreach (var v in e.Data) w.Write(BitConverter.HalfToUInt16Bits((Half)v)); break;
                case DType.BF16: foreach (var v in e.Data) w.Write(ToBFloat16(v)); break;
            }
        }
    }

    /// <summary>Round to nearest even, as torch does when casting to bfloat16.</summary>
    public static ushort ToBFloat16(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        if (float.IsNaN(v)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
