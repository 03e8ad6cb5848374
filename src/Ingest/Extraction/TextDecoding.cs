using System.Text;
using System.Text.Unicode;

namespace Rag.Ingest;

/// <summary>
/// Bytes of a text file to a string: a BOM names the encoding (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE);
/// without one, valid UTF-8 is UTF-8 and anything else is Latin-1, read as windows-1252 the way the
/// WHATWG Encoding Standard reads "iso-8859-1" (0x80-0x9F are curly quotes and dashes, not C1 controls).
/// Line endings become "\n". Binary content is refused.
/// </summary>
public static class TextDecoding
{
    /// <summary>More than this share of control characters means the bytes are not text.</summary>
    public const double MaxControlRatio = 0.05;

    static readonly UTF8Encoding StrictUtf8 = new(false, true);

    // windows-1252 for 0x80..0x9F; the five undefined bytes keep their C1 code point (WHATWG index).
    static readonly char[] Cp1252High =
    [
        '\u20AC', '\u0081', '\u201A', '\u0192', '\u201E', '\u2026', '\u2020', '\u2021',
        '\u02C6', '\u2030', '\u0160', '\u2039', '\u0152', '\u008D', '\u017D', '\u008F',
        '\u0090', '\u2018', '\u2019', '\u201C', '\u201D', '\u2022', '\u2013', '\u2014',
        '\u02DC', '\u2122', '\u0161', '\u203A', '\u0153', '\u009D', '\u017E', '\u0178',
    ];

    /// <summary>The encoding the bytes were read with ("utf-8", "utf-16le", "windows-1252", ...) and the text.</summary>
    public static (string Text, string Encoding) Decode(ReadOnlySpan<byte> bytes)
    {
        string text, name;
        if (ByBom(bytes) is { } bom)
            (text, name) = (DecodeStrict(bom.Encoding, bytes[bom.Length..], bom.Label), bom.Name);
        else if (Utf8.IsValid(bytes))
            (text, name) = (Encoding.UTF8.GetString(bytes), "utf-8");
        else
            (text, name) = (DecodeWindows1252(bytes), "windows-1252");

        EnsureText(text);
        return (NormalizeNewlines(text), name);
    }

    /// <summary>
    /// What <see cref="Decode"/> would refuse, checked in bounded memory on a seekable stream (an upload spooled to disk):
    /// the same encoding rules, the same binary-data test, and blank text. A stream that is not valid UTF-8 is read a
    /// second time as windows-1252, as Decode falls back.
    /// </summary>
    /// <exception cref="ExtractionException">The bytes are binary data or not valid in the encoding their BOM names.</exception>
    /// <returns>False when the text is blank (whitespace only).</returns>
    public static async Task<bool> ValidateAsync(Stream stream, CancellationToken ct = default)
    {
        var start = stream.Position;
        var head = new byte[4];
        var got = await stream.ReadAtLeastAsync(head, head.Length, throwOnEndOfStream: false, ct);
        if (ByBom(head.AsSpan(0, got)) is { } bom)
        {
            stream.Position = start + bom.Length;
            try { return await ScanAsync(stream, bom.Encoding.GetDecoder(), ct); }
            catch (DecoderFallbackException e) { throw NotValid(bom.Label, e); }
        }
        stream.Position = start;
        try { return await ScanAsync(stream, StrictUtf8.GetDecoder(), ct); }
        catch (DecoderFallbackException) { }
        stream.Position = start;
        return await ScanAsync(stream, new Windows1252Decoder(), ct);
    }

    /// <summary>Decodes the rest of the stream piece by piece: counts its characters and control characters, notes whether any is visible.</summary>
    static async Task<bool> ScanAsync(Stream stream, Decoder decoder, CancellationToken ct)
    {
        var bytes = new byte[1 << 16];
        var chars = new char[bytes.Length + 4];
        long length = 0, controls = 0;
        var visible = false;
        while (true)
        {
            var read = await stream.ReadAsync(bytes, ct);
            var n = decoder.GetChars(bytes, 0, read, chars, 0, flush: read == 0);
            var text = chars.AsSpan(0, n);
            controls += CountControls(text);
            visible |= !IsBlank(text);
            length += n;
            if (read == 0) break;
        }
        CheckControlRatio(controls, length);
        return visible;
    }

    sealed record Bom(int Length, Encoding Encoding, string Label, string Name);

    static Bom? ByBom(ReadOnlySpan<byte> bytes) =>
        bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? new(3, StrictUtf8, "UTF-8", "utf-8")
        : bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]) ? new(4, new UTF32Encoding(false, false, true), "UTF-32", "utf-32le")
        : bytes.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]) ? new(4, new UTF32Encoding(true, false, true), "UTF-32", "utf-32be")
        : bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) ? new(2, new UnicodeEncoding(false, false, true), "UTF-16", "utf-16le")
        : bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]) ? new(2, new UnicodeEncoding(true, false, true), "UTF-16", "utf-16be")
        : null;

    /// <summary>Throws when the text looks like binary data: any NUL, or too many control characters.</summary>
    public static void EnsureText(ReadOnlySpan<char> text) => CheckControlRatio(CountControls(text), text.Length);

    /// <summary>Control characters in the text; throws at the first NUL.</summary>
    static int CountControls(ReadOnlySpan<char> text)
    {
        var controls = 0;
        foreach (var c in text)
        {
            if (c == '\0')
                throw new ExtractionException("The file contains NUL bytes: it is binary data, not text. (UTF-16 text needs a byte-order mark.)");
            if (IsControl(c)) controls++;
        }
        return controls;
    }

    static void CheckControlRatio(long controls, long length)
    {
        if (controls > length * MaxControlRatio)
            throw new ExtractionException($"The file is not text: {controls} of its {length} characters are control characters.");
    }

    /// <summary>True when the text has no visible character.</summary>
    public static bool IsBlank(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
            if (!char.IsWhiteSpace(c) && c != '\uFEFF') return false;
        return true;
    }

    static bool IsControl(char c) =>
        c is < ' ' and not ('\t' or '\n' or '\r' or '\f') || c is >= '\u007F' and <= '\u009F' || c == '\uFFFD';

    static string DecodeStrict(Encoding encoding, ReadOnlySpan<byte> bytes, string name)
    {
        try { return encoding.GetString(bytes); }
        catch (DecoderFallbackException e) { throw NotValid(name, e); }
    }

    static ExtractionException NotValid(string name, DecoderFallbackException e) =>
        new($"The file starts with a {name} byte-order mark but is not valid {name}: {e.Message}", e);

    static string DecodeWindows1252(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, src) => Windows1252Decoder.Map(src, span));
    }

    /// <summary>windows-1252 as WHATWG reads it: one char per byte, so no state crosses a buffer boundary.</summary>
    sealed class Windows1252Decoder : Decoder
    {
        public override int GetCharCount(byte[] bytes, int index, int count) => count;

        public override int GetChars(byte[] bytes, int byteIndex, int byteCount, char[] chars, int charIndex)
        {
            Map(bytes.AsSpan(byteIndex, byteCount), chars.AsSpan(charIndex));
            return byteCount;
        }

        public static void Map(ReadOnlySpan<byte> src, Span<char> dst)
        {
            for (var i = 0; i < src.Length; i++)
            {
                var b = src[i];
                dst[i] = b is >= 0x80 and <= 0x9F ? Cp1252High[b - 0x80] : (char)b;
            }
        }
    }

    static string NormalizeNewlines(string text)
    {
        if (!text.Contains('\r')) return text;
        return text.Replace("\r\n", "\n").Replace('\r', '\n');
    }
}
