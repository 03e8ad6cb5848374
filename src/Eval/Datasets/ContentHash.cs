using System.Security.Cryptography;
using System.Text;

namespace Rag.Eval;

/// <summary>Incremental SHA-256 over length-prefixed strings (so ("ab","c") and ("a","bc") differ).</summary>
internal sealed class ContentHash
{
    readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public void Add(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        _hash.AppendData(length);
        _hash.AppendData(bytes);
    }

    public static string Of(Action<ContentHash> write)
    {
        var h = new ContentHash();
        write(h);
        return Convert.ToHexStringLower(h._hash.GetHashAndReset());
    }
}
