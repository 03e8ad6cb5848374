using System.IO.MemoryMappedFiles;

namespace Rag.Neural.Weights;

/// <summary>
/// A read-only memory mapping of [offset, offset + length) of a file, pinned at one address for its lifetime: weight
/// tensors are views of it, so it is released only when its owner is disposed.
/// </summary>
sealed unsafe class MappedRegion : IDisposable
{
    readonly MemoryMappedFile _map;
    readonly MemoryMappedViewAccessor _view;
    bool _disposed;

    /// <summary>The region's first byte.</summary>
    public byte* Pointer { get; }
    public long Length { get; }

    MappedRegion(MemoryMappedFile map, MemoryMappedViewAccessor view, byte* pointer, long length)
    {
        _map = map; _view = view; Pointer = pointer; Length = length;
    }

    /// <param name="length">0 maps to the end of the file.</param>
    public static MappedRegion Open(string path, long offset = 0, long length = 0)
    {
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor? view = null;
        try
        {
            view = map.CreateViewAccessor(offset, length, MemoryMappedFileAccess.Read);
            byte* ptr = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref ptr);
            return new MappedRegion(map, view, ptr + view.PointerOffset, length == 0 ? new FileInfo(path).Length - offset : length);
        }
        catch
        {
            view?.Dispose();
            map.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }
}
