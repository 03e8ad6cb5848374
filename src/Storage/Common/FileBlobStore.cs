namespace Rag.Storage;

/// <summary>
/// Original uploads as files: &lt;root&gt;/&lt;tenant&gt;/&lt;document&gt;. A save writes a temp file, fsyncs it and renames it
/// over the target, so a crash mid-write leaves the previous file or the new one, never a torn one.
/// Shared by the SQLite and PostgreSQL stores.
/// </summary>
public sealed class FileBlobStore(string root) : IBlobStore
{
    const string TempMarker = ".tmp-";

    public string Root { get; } = Path.GetFullPath(root);

    public async Task SaveAsync(string tenantId, string documentId, Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var path = PathOf(tenantId, documentId);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + TempMarker + Guid.NewGuid().ToString("N");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, ct);
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true); // fsync before the rename makes the name point at it
            }
            File.Move(temp, path, overwrite: true); // rename(2): atomic replace
            SyncDirectory(Path.GetDirectoryName(path)!); // and make the rename itself survive a power cut
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    public Task<Stream?> OpenAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var path = PathOf(tenantId, documentId);
        try
        {
            Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous);
            return Task.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<Stream?>(null);
        }
    }

    public Task DeleteAsync(string tenantId, string documentId, CancellationToken ct = default)
    {
        ct.ThrowIfCancellationRequested();
        var path = PathOf(tenantId, documentId);
        if (File.Exists(path)) File.Delete(path);
        return Task.CompletedTask;
    }

    string PathOf(string tenantId, string documentId) =>
        Path.Combine(Root, Segment(tenantId, nameof(tenantId)), Segment(documentId, nameof(documentId)));

    // Ids become file names: refuse anything that could climb out of the folder or collide with a temp file.
    static string Segment(string id, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(id, name);
        if (id is "." or ".." || id.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || id.Contains('\\') || id.Contains(TempMarker, StringComparison.Ordinal))
            throw new ArgumentException($"'{id}' cannot be used as a blob name.", name);
        return id;
    }

    // .NET cannot open a directory to fsync it, so on Unix ask libc directly; where that is unavailable the
    // rename is still atomic, only its durability across a power cut is left to the file system.
    static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        var fd = Native.open(directory, 0 /* O_RDONLY */);
        if (fd < 0) return;
        try { Native.fsync(fd); }
        finally { Native.close(fd); }
    }

    static class Native
    {
        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true, CharSet = System.Runtime.InteropServices.CharSet.Ansi, BestFitMapping = false)]
        internal static extern int open(string path, int flags);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        internal static extern int fsync(int fd);

        [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
        internal static extern int close(int fd);
    }

    static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
