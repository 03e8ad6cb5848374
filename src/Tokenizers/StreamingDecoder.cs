using System.Text;

namespace Rag.Tokenizers;

/// <summary>
/// Turns generated ids into text as they arrive. A token may end in the middle of a UTF-8 character
/// (an emoji is often 4 byte tokens); the decoder holds such bytes back until the character is whole,
/// so every returned string is complete text. Not thread-safe: one per generation.
/// </summary>
public sealed class StreamingDecoder
{
    readonly ByteLevelBpeTokenizer _tokenizer;
    readonly bool _skipSpecialTokens;
    // .NET's UTF-8 decoder keeps an incomplete trailing sequence between calls and replaces invalid bytes with U+FFFD.
    readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    readonly char[] _chars = new char[64];

    public StreamingDecoder(ByteLevelBpeTokenizer tokenizer, bool skipSpecialTokens = true)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>The text completed by this id; empty while a character is still partial.</summary>
    public string Append(int id)
    {
        if (_skipSpecialTokens && _tokenizer.IsSpecial(id)) return "";
        return DecodeBytes(_tokenizer.TokenBytes(id), flush: false);
    }

    /// <summary>At the end of generation: what is left, a dangling partial character as U+FFFD.</summary>
    public string Flush() => DecodeBytes([], flush: true);

    string DecodeBytes(ReadOnlySpan<byte> bytes, bool flush)
    {
        int needed = _utf8.GetCharCount(bytes, flush);
        var chars = needed <= _chars.Length ? _chars : new char[needed];
        int n = _utf8.GetChars(bytes, chars, flush);
        return n == 0 ? "" : new string(chars, 0, n);
    }
}
