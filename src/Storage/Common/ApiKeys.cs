using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Rag.Storage;

/// <summary>
/// API keys: 32 random bytes shown once as "rag_" + base64url; only the SHA-256 of the key and a short
/// display prefix are stored. A fast hash is enough because the key has 256 bits of entropy (nothing to brute-force).
/// </summary>
internal static class ApiKeys
{
    public const string Scheme = "rag_";
    const int PrefixLength = 12;

    public static string NewPlaintext() => Scheme + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string plaintext) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(plaintext)));

    public static string Prefix(string plaintext) => plaintext[..Math.Min(PrefixLength, plaintext.Length)];

    /// <summary>Compares two hex hashes in time independent of where they differ.</summary>
    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
