using System.Security.Cryptography;
using System.Text;

namespace Rag.Retriever.Qdrant;

/// <summary>
/// Deterministic point ids: a name-based UUID (version 5, RFC 9562 §5.5: SHA-1 of namespace ‖ name) of
/// the tenant and chunk id, so re-sending a batch overwrites the same points instead of duplicating them.
/// </summary>
public static class QdrantPointId
{
    /// <summary>The namespace of this service's chunk ids (a fixed random UUID).</summary>
    public static readonly Guid ChunkNamespace = new("2f1c8e3a-6b7d-4e59-9a0c-5d3b7f21c4e8");

    /// <summary>The tenant is length-prefixed, so no two (tenant, chunk) pairs spell the same name.</summary>
    public static Guid For(string tenantId, string chunkId) => NameBased(ChunkNamespace, $"{tenantId.Length}:{tenantId}\n{chunkId}");

    public static Guid NameBased(Guid @namespace, string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        var input = new byte[16 + nameBytes.Length];
        @namespace.TryWriteBytes(input, bigEndian: true, out _);
        nameBytes.CopyTo(input, 16);
        var hash = SHA1.HashData(input);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50); // version 5
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }
}
