namespace Rag.Tokenizers;

/// <summary>
/// GPT-2's reversible map between the 256 byte values and printable characters (bytes_to_unicode in
/// openai/gpt-2 encoder.py): printable Latin-1 bytes map to themselves, the rest to U+0100 upwards.
/// Byte-level vocabularies (vocab.json, tokenizer.json) spell their tokens in these characters.
/// </summary>
public static class ByteLevel
{
    static readonly char[] s_byteToChar = new char[256];
    static readonly short[] s_charToByte = new short[512];

    static ByteLevel()
    {
        s_charToByte.AsSpan().Fill(-1);
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is (>= '!' and <= '~') or (>= '¡' and <= '¬') or (>= '®' and <= 'ÿ');
            char c = printable ? (char)b : (char)next++;
            s_byteToChar[b] = c;
            s_charToByte[c] = (short)b;
        }
    }

    public static char ToChar(byte b) => s_byteToChar[b];

    /// <summary>The byte a character stands for, or -1 when it is not one of the 256 byte characters.</summary>
    public static int ToByte(char c) => c < s_charToByte.Length ? s_charToByte[c] : -1;

    /// <summary>Bytes spelled as byte-level characters.</summary>
    public static string Encode(ReadOnlySpan<byte> bytes) =>
        string.Create(bytes.Length, bytes.ToArray(), static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++) span[i] = s_byteToChar[b[i]];
        });

    /// <summary>The bytes a byte-level token spells, or null when it holds characters outside the byte alphabet.</summary>
    public static byte[]? Decode(ReadOnlySpan<char> token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            int b = ToByte(token[i]);
            if (b < 0) return null;
            bytes[i] = (byte)b;
        }
        return bytes;
    }

    /// <summary>
    /// The order in which GPT-2's encoder.json lists its first 256 tokens: byte values ordered by their
    /// byte-level character (printable bytes first). Tiny test vocabularies use it too.
    /// </summary>
    public static IReadOnlyList<byte> Gpt2ByteOrder { get; } = [.. Enumerable.Range(0, 256).OrderBy(b => s_byteToChar[b]).Select(b => (byte)b)];
}
