using System.Runtime.InteropServices;
using System.Text;
using Rag.Neural.Tensors;

namespace Rag.Neural.Weights;

/// <summary>
/// The fp32 initializers of an ONNX model exported from a Hugging Face BERT (torch.onnx.export), under their HF names,
/// so the same <see cref="Checkpoint"/> and model classes that read safetensors read them.
/// Embeddings, LayerNorm and bias tensors keep their HF names in the export; a linear weight becomes an anonymous
/// MatMul initializer stored (in, out), which is named after the bias of the Add that follows its MatMul
/// ("...query.bias" -> "...query.weight") and transposed to HF's (out, in).
/// Only the ONNX protobuf fields this needs are read (onnx.proto: ModelProto.graph = 7; GraphProto.node = 1,
/// .initializer = 5; NodeProto.input = 1, .output = 2, .op_type = 4, .attribute = 5; TensorProto.dims = 1,
/// .data_type = 2, .float_data = 4, .name = 8, .raw_data = 9, .data_location = 14).
/// </summary>
public sealed unsafe class OnnxWeights : ITensorFile
{
    const int OnnxFloat = 1; // TensorProto.DataType.FLOAT

    sealed record Initializer(string Name, int[] Shape, int DataType, int RawOffset, int RawLength, float[]? FloatData);
    sealed record Node(string OpType, string[] Inputs, string[] Outputs, Initializer? ConstantValue);

    readonly MappedRegion _region;
    readonly byte* _base;
    readonly long _offset; // of the model inside Path (an assembly resource starts past the PE headers)
    Microsoft.Win32.SafeHandles.SafeFileHandle? _file; // opened on the first unaligned tensor, kept for the rest
    readonly Dictionary<string, (Initializer Source, bool Transpose)> _byHfName = new(StringComparer.Ordinal);
    readonly Dictionary<string, TensorInfo> _tensors = new(StringComparer.Ordinal);
    bool _disposed;

    public string Path { get; }
    public IReadOnlyDictionary<string, TensorInfo> Tensors => _tensors;

    /// <summary>1/sqrt(head_dim) as the export scales attention scores (a Div by sqrt(d) or a Mul by its inverse); null if not found.</summary>
    public float? AttentionScale { get; private set; }

    /// <summary>The epsilon the exported (decomposed) LayerNorm adds under its square root; null if not found.</summary>
    public float? LayerNormEpsilon { get; private set; }

    /// <summary>True when the graph computes GELU with Erf (HF "gelu"); false means the tanh form or none.</summary>
    public bool UsesErf { get; private set; }

    OnnxWeights(string path, long offset, MappedRegion region)
    {
        Path = path; _offset = offset; _region = region; _base = region.Pointer;
    }

    /// <summary>An ONNX model stored at [offset, offset + length) of a file: a .onnx file, or a resource inside an assembly.</summary>
    public static OnnxWeights Open(string path, long offset = 0, long? length = null)
    {
        if (!File.Exists(path)) throw new ModelLoadException("ONNX model file not found", path);
        long fileLength = new FileInfo(path).Length;
        long size = length ?? fileLength - offset;
        if (offset < 0 || size <= 0 || offset + size > fileLength) throw new ModelLoadException($"ONNX model range [{offset}, {offset + size}) lies outside the file of {fileLength} bytes", path);
        if (size > int.MaxValue) throw new ModelLoadException("ONNX models over 2 GB (external data) are not supported", path);
        var region = MappedRegion.Open(path, offset, size);
        try
        {
            var weights = new OnnxWeights(path, offset, region);
            weights.Parse(new ReadOnlySpan<byte>(region.Pointer, (int)size));
            return weights;
        }
        catch (Exception e) when (e is not ModelLoadException)
        {
            region.Dispose();
            throw new ModelLoadException($"malformed ONNX model: {e.Message}", path, null, e);
        }
        catch
        {
            region.Dispose();
            throw;
        }
    }

    void Parse(ReadOnlySpan<byte> model)
    {
        var initializers = new List<Initializer>();
        var nodes = new List<Node>();
        var reader = new ProtoReader(model, 0);
        bool sawGraph = false;
        while (reader.Next(out int field, out int wire))
        {
            if (field == 7 && wire == ProtoReader.LengthDelimited)
            {
                sawGraph = true;
                var (start, len) = reader.Range();
                ParseGraph(new ProtoReader(model.Slice(start, len), start), initializers, nodes);
            }
            else reader.Skip(wire);
        }
        if (!sawGraph) throw new ModelLoadException("not an ONNX model (no graph)", Path);
        Map(initializers, nodes);
    }

    void ParseGraph(ProtoReader graph, List<Initializer> initializers, List<Node> nodes)
    {
        while (graph.Next(out int field, out int wire))
        {
            if (wire != ProtoReader.LengthDelimited) { graph.Skip(wire); continue; }
            var sub = graph.Message();
            if (field == 1) nodes.Add(ParseNode(sub));
            else if (field == 5) initializers.Add(ParseTensor(sub));
        }
    }

    Node ParseNode(ProtoReader node)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string op = "";
        Initializer? value = null;
        while (node.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.LengthDelimited: inputs.Add(node.String()); break;
                case 2 when wire == ProtoReader.LengthDelimited: outputs.Add(node.String()); break;
                case 4 when wire == ProtoReader.LengthDelimited: op = node.String(); break;
                case 5 when wire == ProtoReader.LengthDelimited:
                    // AttributeProto: name = 1, t = 5; only a Constant's "value" tensor is of use here.
                    var attribute = node.Message();
                    string name = "";
                    Initializer? tensor = null;
                    while (attribute.Next(out int af, out int aw))
                    {
                        if (af == 1 && aw == ProtoReader.LengthDelimited) name = attribute.String();
                        else if (af == 5 && aw == ProtoReader.LengthDelimited) tensor = ParseTensor(attribute.Message());
                        else attribute.Skip(aw);
                    }
                    if (name == "value") value = tensor;
                    break;
                default: node.Skip(wire); break;
            }
        }
        return new Node(op, [.. inputs], [.. outputs], op == "Constant" ? value : null);
    }

    Initializer ParseTensor(ProtoReader tensor)
    {
        var dims = new List<long>();
        int dataType = 0, rawOffset = -1, rawLength = 0;
        string name = "";
        List<float>? floats = null;
        while (tensor.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1 when wire == ProtoReader.VarintWire: dims.Add((long)tensor.Varint()); break;
                case 1 when wire == ProtoReader.LengthDelimited:
                    var packed = tensor.Message();
                    while (!packed.AtEnd) dims.Add((long)packed.Varint());
                    break;
                case 2 when wire == ProtoReader.VarintWire: dataType = (int)tensor.Varint(); break;
                case 4 when wire == ProtoReader.LengthDelimited:
                    var fl = tensor.Message();
                    floats ??= [];
                    while (!fl.AtEnd) floats.Add(BitConverter.Int32BitsToSingle((int)fl.Fixed32()));
                    break;
                case 4 when wire == ProtoReader.Fixed32Wire: (floats ??= []).Add(BitConverter.Int32BitsToSingle((int)tensor.Fixed32())); break;
                case 8 when wire == ProtoReader.LengthDelimited: name = tensor.String(); break;
                case 9 when wire == ProtoReader.LengthDelimited: (rawOffset, rawLength) = tensor.Range(); break;
                case 14 when wire == ProtoReader.VarintWire:
                    if (tensor.Varint() != 0) throw new ModelLoadException("tensors stored as external data are not supported", Path, name);
                    break;
                default: tensor.Skip(wire); break;
            }
        }
        if (dims.Any(d => d < 0 || d > int.MaxValue)) throw new ModelLoadException($"tensor dimension out of range [{string.Join(", ", dims)}]", Path, name);
        return new Initializer(name, dims.Select(d => (int)d).ToArray(), dataType, rawOffset, rawLength, floats?.ToArray());
    }

    void Map(List<Initializer> initializers, List<Node> nodes)
    {
        var byName = initializers.ToDictionary(i => i.Name, StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        var producer = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var n in nodes)
        {
            foreach (var input in n.Inputs) { if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = []; list.Add(n); }
            foreach (var output in n.Outputs) producer[output] = n;
        }
        float? Scalar(string name) =>
            (byName.TryGetValue(name, out var init) ? init : producer.TryGetValue(name, out var p) ? p.ConstantValue : null) is { } t
            && t.DataType == OnnxFloat && t.Shape.Aggregate(1L, (a, d) => a * d) == 1 ? ReadFloats(t)[0] : null;

        // Linear weights: MatMul(x, W) followed by Add(bias) (either operand order).
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var matmul in nodes.Where(n => n.OpType == "MatMul" && n.Inputs.Length == 2 && byName.ContainsKey(n.Inputs[1])))
        {
            var weight = byName[matmul.Inputs[1]];
            var add = consumers.GetValueOrDefault(matmul.Outputs[0])?.FirstOrDefault(c => c.OpType == "Add");
            var bias = add?.Inputs.FirstOrDefault(i => i != matmul.Outputs[0] && byName.ContainsKey(i) && i.EndsWith(".bias", StringComparison.Ordinal));
            if (bias is null || weight.Shape.Length != 2)
                throw new ModelLoadException("a MatMul weight is not followed by a named bias, so its Hugging Face name is unknown", Path, weight.Name);
            AddTensor(bias[..^".bias".Length] + ".weight", weight, transpose: true);
            named.Add(weight.Name);
        }
        // Everything else that is fp32 and already carries an HF name (not "onnx::MatMul_12" or "927").
        foreach (var init in initializers)
        {
            if (named.Contains(init.Name) || init.DataType != OnnxFloat || init.Shape.Length == 0) continue;
            if (init.Name.StartsWith("onnx::", StringComparison.Ordinal) || !init.Name.Contains('.')) continue;
            AddTensor(init.Name, init, transpose: false);
        }

        // Attention scores are Q K^T scaled by 1/sqrt(d): a Div by sqrt(d) (or Mul by 1/sqrt(d)) applied to a
        // MatMul of two activations.
        foreach (var n in nodes.Where(n => n.OpType is "Div" or "Mul" && n.Inputs.Length == 2))
        {
            if (!producer.TryGetValue(n.Inputs[0], out var mm) || mm.OpType != "MatMul" || mm.Inputs.Any(byName.ContainsKey)) continue;
            if (Scalar(n.Inputs[1]) is not { } c || c <= 0) continue;
            AttentionScale = n.OpType == "Div" ? 1f / c : c;
            break;
        }
        // Decomposed LayerNorm: (x - mean) / Sqrt(Add(var, eps)).
        foreach (var sqrt in nodes.Where(n => n.OpType == "Sqrt"))
        {
            if (!producer.TryGetValue(sqrt.Inputs[0], out var add) || add.OpType != "Add") continue;
            if (add.Inputs.Select(Scalar).FirstOrDefault(v => v is not null) is { } eps) { LayerNormEpsilon = eps; break; }
        }
        UsesErf = nodes.Any(n => n.OpType == "Erf");
    }

    void AddTensor(string hfName, Initializer source, bool transpose)
    {
        if (source.DataType != OnnxFloat) throw new ModelLoadException($"initializer of ONNX data type {source.DataType} (only FLOAT is supported)", Path, source.Name);
        long n = source.Shape.Aggregate(1L, (a, d) => a * d);
        long bytes = source.RawOffset >= 0 ? source.RawLength : (source.FloatData?.Length ?? 0) * 4L;
        if (bytes != n * 4) throw new ModelLoadException($"initializer holds {bytes} bytes for shape [{string.Join(", ", source.Shape)}] of FLOAT", Path, source.Name);
        if (!_byHfName.TryAdd(hfName, (source, transpose))) throw new ModelLoadException("two initializers map to the same Hugging Face name", Path, hfName);
        var shape = transpose ? [source.Shape[1], source.Shape[0]] : source.Shape;
        _tensors[hfName] = new TensorInfo(hfName, DType.F32, shape, Math.Max(0, source.RawOffset), Math.Max(0, source.RawOffset) + bytes);
    }

    float[] ReadFloats(Initializer t)
    {
        if (t.FloatData is { } f) return f;
        if (t.RawOffset < 0) return [];
        var result = new float[t.RawLength / 4];
        new ReadOnlySpan<byte>(_base + t.RawOffset, result.Length * 4).CopyTo(MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The tensor under its HF name as fp32: a view of the mapping when stored as is, a transposed copy for MatMul weights.</summary>
    public Tensor Load(string name) => Read(name, asStored: false).Tensor;

    /// <summary>MatMul weights as stored, (in, out): a view of the mapping, no copy.</summary>
    public (Tensor Tensor, bool Transposed) LoadAsStored(string name) => Read(name, asStored: true);

    (Tensor Tensor, bool Transposed) Read(string name, bool asStored)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_byHfName.TryGetValue(name, out var entry)) throw new ModelLoadException("tensor not found", Path, name);
        var (source, storedTransposed) = entry;
        var transpose = storedTransposed && !asStored;
        var shape = storedTransposed && asStored ? source.Shape : _tensors[name].Shape;
        long n = shape.Aggregate(1L, (a, d) => a * d);
        if (!transpose && source.RawOffset >= 0 && ((nint)(_base + source.RawOffset) & 3) == 0)
            return (new Tensor(new BorrowedStorage((float*)(_base + source.RawOffset), n, this), 0, shape), storedTransposed && asStored);
        var storage = new NativeStorage(n);
        float* dst = storage.Pointer;
        if (!transpose && source.RawOffset >= 0)
        {
            // An unaligned tensor is copied by reading the file, not through the mapping: read through the page
            // cache, its pages are not counted again in this process's resident memory beside the copy.
            ReadFile(source.RawOffset, new Span<byte>(dst, checked((int)(n * 4))));
            return (new Tensor(storage, 0, shape), storedTransposed && asStored);
        }
        fixed (float* typed = source.FloatData)
        {
            // Raw data may be unaligned inside the file; read it bytewise through an unaligned load.
            float* src = source.RawOffset >= 0 ? (float*)(_base + source.RawOffset) : typed;
            if (!transpose)
                for (long i = 0; i < n; i++) dst[i] = Unaligned(src + i);
            else
            {
                int rows = source.Shape[0], cols = source.Shape[1];   // stored (in, out); wanted (out, in)
                for (int r = 0; r < rows; r++)
                    for (int c = 0; c < cols; c++) dst[(long)c * rows + r] = Unaligned(src + (long)r * cols + c);
            }
        }
        return (new Tensor(storage, 0, shape), storedTransposed && asStored);
    }

    void ReadFile(long rawOffset, Span<byte> destination)
    {
        var handle = _file ??= File.OpenHandle(Path);
        for (long position = _offset + rawOffset; destination.Length > 0;)
        {
            var read = RandomAccess.Read(handle, destination, position);
            if (read == 0) throw new ModelLoadException("the file ended inside a tensor", Path);
            destination = destination[read..];
            position += read;
        }
    }

    static float Unaligned(float* p) => System.Runtime.CompilerServices.Unsafe.ReadUnaligned<float>(p);

    public void Dispose()
    {
        // As with safetensors: views of the mapping keep this object reachable; release only on explicit request.
        if (_disposed) return;
        _disposed = true;
        _file?.Dispose();
        _region.Dispose();
    }

    /// <summary>The protobuf wire format (varints, fixed32/64, length-delimited), over a slice at a known absolute offset.</summary>
    ref struct ProtoReader(ReadOnlySpan<byte> data, int baseOffset)
    {
        public const int VarintWire = 0, Fixed64Wire = 1, LengthDelimited = 2, Fixed32Wire = 5;
        readonly ReadOnlySpan<byte> _data = data;
        readonly int _baseOffset = baseOffset;
        int _pos;

        public readonly bool AtEnd => _pos >= _data.Length;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (AtEnd) return false;
            ulong key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            if (field == 0) throw new InvalidDataException($"field number 0 at byte {_baseOffset + _pos}");
            return true;
        }

        public ulong Varint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                if (_pos >= _data.Length) throw new InvalidDataException("truncated varint");
                byte b = _data[_pos++];
                result |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return result;
            }
            throw new InvalidDataException("varint longer than 10 bytes");
        }

        public uint Fixed32()
        {
            if (_pos + 4 > _data.Length) throw new InvalidDataException("truncated fixed32");
            uint v = BitConverter.ToUInt32(_data.Slice(_pos, 4));
            _pos += 4;
            return v;
        }

        /// <summary>A length-delimited field as (absolute offset, length).</summary>
        public (int Offset, int Length) Range()
        {
            ulong len = Varint();
            if (len > (ulong)(_data.Length - _pos)) throw new InvalidDataException($"length {len} overruns the message at byte {_baseOffset + _pos}");
            var r = (_baseOffset + _pos, (int)len);
            _pos += (int)len;
            return r;
        }

        public ProtoReader Message()
        {
            var (offset, length) = Range();
            return new ProtoReader(_data.Slice(offset - _baseOffset, length), offset);
        }

        public string String()
        {
            var (offset, length) = Range();
            return Encoding.UTF8.GetString(_data.Slice(offset - _baseOffset, length));
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case VarintWire: Varint(); break;
                case Fixed64Wire: Advance(8); break;
                case LengthDelimited: Range(); break;
                case Fixed32Wire: Advance(4); break;
                default: throw new InvalidDataException($"unsupported wire type {wire} at byte {_baseOffset + _pos}");
            }
        }

        void Advance(int n)
        {
            if (_pos + n > _data.Length) throw new InvalidDataException("truncated field");
            _pos += n;
        }
    }
}
