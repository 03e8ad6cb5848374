namespace Rag.Storage;

internal static class Ids
{
    /// <summary>A new id: a version-7 GUID, so ids sort roughly by creation time (kind to B-tree indexes).</summary>
    public static string New() => Guid.CreateVersion7().ToString("N");
}
