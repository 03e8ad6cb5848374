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
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
            (text, name) = (DecodeStrict(StrictUtf8, bytes[3..], "UTF-8"), "utf-8");
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0x00, 0x00]))
            (text, name) = (DecodeStrict(new UTF32Encoding(false, false, true), bytes[4..], "UTF-32"), "utf-32le");
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0x00, 0x00, 0xFE, 0xFF]))
            (text, name) = (DecodeStrict(new UTF32Encoding(true, false, true), bytes[4..], "UTF-32"), "utf-32be");
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
            (text, name) = (DecodeStrict(new UnicodeEncoding(false, false, true), bytes[2..], "UTF-16"), "utf-16le");
        else if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
            (text, name) = (DecodeStrict(new UnicodeEncoding(true, false, true), bytes[2..], "UTF-16"), "utf-16be");
        else if (Utf8.IsValid(bytes))
            (text, name) = (Encoding.UTF8.GetString(bytes), "utf-8");
        else
            (text, name) = (DecodeWindows1252(bytes), "windows-1252");

        EnsureText(text);
        return (NormalizeNewlines(text), name);
    }

    /// <summary>Throws when the text looks like binary data: any NUL, or too many control characters.</summary>
    public static void EnsureText(ReadOnlySpan<char> text)
    {
        var controls = 0;
        foreach (var c in text)
        {
            if (c == '\0')
                throw new ExtractionException("The file contains NUL bytes: it is binary data, not text. (UTF-16 text needs a byte-order mark.)");
            if (IsControl(c)) controls++;
        }
        if (controls > text.Length * MaxControlRatio)
            throw new ExtractionException($"The file is not text: {controls} of its {text.Length} characters are control characters.");
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
        catch (DecoderFallbackException e)
        {
            throw new ExtractionException($"The file starts with a {name} byte-order mark but is not valid {name}: {e.Message}", e);
        }
    }

    static string DecodeWindows1252(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (span, src) =>
        {
            for (var i = 0; i < src.Length; i++)
            {
                var b = src[i];
                span[i] = b is >= 0x80 and <= 0x9F ? Cp1252High[b - 0x80] : (char)b;
            }
        });
    }

    static string NormalizeNewlines(string text)
    {
        if (!text.Contains('\r')) return text;
        return text.Replace("\r\n", "\n").Replace('\r', '\n');
    }
}
