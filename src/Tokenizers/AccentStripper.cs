using System.Globalization;
using System.Text;

namespace Rag.Tokenizers;

/// <summary>
/// BERT's strip_accents for one code point: NFD, then drop nonspacing marks (Mn).
/// Table-driven (see AccentTable.g.cs) because invariant globalization makes string.Normalize a no-op.
/// </summary>
internal static partial class AccentStripper
{
    static readonly Dictionary<int, string> Map = BuildMap();

    static Dictionary<int, string> BuildMap()
    {
        var table = Table();
        var map = new Dictionary<int, string>(table.Length);
        foreach (var (cp, stripped) in table) map[cp] = stripped;
        return map;
    }

    // Hangul syllables decompose algorithmically into conjoining jamo (Unicode 3.12), none of which are marks.
    const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, VCount = 21, TCount = 28, SCount = 11172;

    /// <summary>Longest output of <see cref="Strip"/> in UTF-16 units.</summary>
    public const int MaxLength = 8;

    /// <summary>Writes the accent-stripped form of <paramref name="rune"/> into <paramref name="dest"/> (at least MaxLength long); returns its length.</summary>
    public static int Strip(Rune rune, Span<char> dest)
    {
        int cp = rune.Value;
        if (cp < 0xC0) { dest[0] = (char)cp; return 1; } // nothing decomposes below U+00C0
        if (cp - SBase is >= 0 and < SCount)
        {
            int s = cp - SBase;
            dest[0] = (char)(LBase + s / (VCount * TCount));
            dest[1] = (char)(VBase + s % (VCount * TCount) / TCount);
            if (s % TCount == 0) return 2;
            dest[2] = (char)(TBase + s % TCount);
            return 3;
        }
        if (Map.TryGetValue(cp, out var stripped)) { stripped.CopyTo(dest); return stripped.Length; }
        if (Rune.GetUnicodeCategory(rune) == UnicodeCategory.NonSpacingMark) return 0;
        return rune.EncodeToUtf16(dest);
    }
}
