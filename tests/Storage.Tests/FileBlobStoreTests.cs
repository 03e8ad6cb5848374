namespace Rag.Storage.Tests;

/// <summary>What only the folder store has: ids become file names, so none may climb out of its folder.</summary>
public sealed class FileBlobStoreTests : IDisposable
{
    readonly Rag.Testing.TempDir _dir = new();

    [Fact]
    public async Task Ids_that_would_escape_the_blob_folder_are_refused()
    {
        var blobs = new FileBlobStore(_dir.Path);
        foreach (var (tenant, doc) in new[] { ("..", "d"), ("t", ".."), ("t", "../x"), ("a/b", "d"), ("t", ""), ("t", "d.tmp-1") })
            await Assert.ThrowsAnyAsync<ArgumentException>(() => blobs.SaveAsync(tenant, doc, new MemoryStream([1])));
        Assert.Empty(Directory.GetFileSystemEntries(_dir.Path));
    }

    public void Dispose() => _dir.Dispose();
}
