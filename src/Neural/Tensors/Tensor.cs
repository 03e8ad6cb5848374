using System.Runtime.InteropServices;

namespace Rag.Neural.Tensors;

/// <summary>Where a tensor's storage lives: host memory, or an NVIDIA GPU's memory (<see cref="Cuda.CudaBackend"/>).</summary>
public enum Device { Cpu, Cuda }

/// <summary>Storage element types read from checkpoints. Compute is always F32; F16/BF16 are widened on load.</summary>
public enum DType { F32, F16, BF16 }

/// <summary>Contiguous fp32 memory that never moves (so kernels may hold raw pointers; on a GPU, device addresses).</summary>
public abstract unsafe class Storage
{
    public abstract float* Pointer { get; }
    public abstract long Length { get; }
    public virtual Device Device => Device.Cpu;
}

/// <summary>64-byte aligned native memory freed by the finalizer: activations, converted weights.</summary>
public sealed unsafe class NativeStorage : Storage
{
    float* _ptr;
    readonly long _length;

    public NativeStorage(long length)
    {
        _length = length;
        var bytes = (nuint)Math.Max(1, length) * sizeof(float);
        _ptr = (float*)NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_ptr, bytes);
        if (bytes > 1 << 16) GC.AddMemoryPressure((long)bytes);
    }

    ~NativeStorage()
    {
        var bytes = (long)Math.Max(1, _length) * sizeof(float);
        NativeMemory.AlignedFree(_ptr);
        _ptr = null;
        if (bytes > 1 << 16) GC.RemoveMemoryPressure(bytes);
    }

    public override float* Pointer => _ptr;
    public override long Length => _length;
}

/// <summary>A window into memory owned by someone else (a memory-mapped checkpoint); keeps the owner alive.</summary>
public sealed unsafe class BorrowedStorage(float* pointer, long length, object owner) : Storage
{
    public object Owner { get; } = owner;
    public override float* Pointer => pointer;
    public override long Length => length;
}

/// <summary>
/// A dense row-major fp32 tensor: a shape over a slice of storage. Views (Reshape, Slice) share storage.
/// Model code only passes tensors to <see cref="IBackend"/> ops; it never loops over elements.
/// </summary>
public sealed unsafe class Tensor
{
    readonly Storage _storage;
    readonly long _offset;

    public int[] Shape { get; }
    public int Length { get; }
    public Device Device => _storage.Device;

    public Tensor(Storage storage, long offset, params int[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape [{string.Join(", ", shape)}]");
            n *= d;
        }
        if (n > int.MaxValue) throw new ArgumentException($"tensor of shape [{string.Join(", ", shape)}] exceeds 2^31 elements");
        if (offset < 0 || offset + n > storage.Length)
            throw new ArgumentException($"shape [{string.Join(", ", shape)}] at offset {offset} overruns storage of {storage.Length} elements");
        _storage = storage;
        _offset = offset;
        Shape = shape;
        Length = (int)n;
    }

    public static Tensor Zeros(params int[] shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return new Tensor(new NativeStorage(n), 0, shape);
    }

    public static Tensor FromArray(float[] values, params int[] shape)
    {
        var t = Zeros(shape);
        if (values.Length != t.Length) throw new ArgumentException($"{values.Length} values do not fill shape [{string.Join(", ", shape)}]");
        values.CopyTo(t.Span);
        return t;
    }

    public int Rank => Shape.Length;
    public int Dim(int axis) => Shape[axis < 0 ? Shape.Length + axis : axis];

    /// <summary>Raw pointer to the first element; valid while this tensor is reachable.</summary>
    public float* Pointer => _storage.Pointer + _offset;

    /// <summary>The elements, for host tensors; a GPU tensor is read through <see cref="IBackend.CopyToHost"/>.</summary>
    public Span<float> Span => _storage.Device == Device.Cpu ? new(Pointer, Length)
        : throw new InvalidOperationException($"{this} is in GPU memory: copy it to the host (IBackend.CopyToHost) to read it");

    /// <summary>Same elements, new shape (a view). One dimension may be -1.</summary>
    public Tensor Reshape(params int[] shape)
    {
        var s = (int[])shape.Clone();
        int infer = Array.IndexOf(s, -1);
        if (infer >= 0)
        {
            int known = 1;
            for (int i = 0; i < s.Length; i++) if (i != infer) known *= s[i];
            s[infer] = known == 0 ? 0 : Length / known;
        }
        long n = 1;
        foreach (var d in s) n *= d;
        if (n != Length) throw new ArgumentException($"cannot reshape [{string.Join(", ", Shape)}] to [{string.Join(", ", shape)}]");
        return new Tensor(_storage, _offset, s);
    }

    /// <summary>A view of rows [start, start+count) along the first axis.</summary>
    public Tensor Slice(int start, int count)
    {
        if (start < 0 || count < 0 || start + count > Shape[0]) throw new ArgumentOutOfRangeException(nameof(start), $"rows [{start}, {start + count}) outside [0, {Shape[0]})");
        int row = Shape[0] == 0 ? 0 : Length / Shape[0];
        var s = (int[])Shape.Clone();
        s[0] = count;
        return new Tensor(_storage, _offset + (long)start * row, s);
    }

    public float[] ToArray() => Span.ToArray();

    public override string ToString() => $"Tensor[{string.Join(", ", Shape)}] on {Device}";
}
