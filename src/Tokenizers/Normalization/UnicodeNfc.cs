using System.Text;

namespace Rag.Tokenizers.Normalization;

/// <summary>
/// Unicode Normalization Form C (UAX #15): canonical decomposition, canonical ordering, canonical composition.
/// Our own because the service runs with InvariantGlobalization, where string.Normalize returns its input unchanged.
/// Works on code points; a lone surrogate is left where it is, as a starter that composes with nothing. The data is
/// Python's unicodedata (NfcTables.g.cs names its Unicode version). Thread-safe.
/// </summary>
public static partial class UnicodeNfc
{
    /// <summary>The NFC form of <paramref name="text"/>; the same instance when the text is already in NFC.</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        // Below U+0300 every code point is a starter that neither decomposes nor composes with what precedes it,
        // so most text is settled by one vectorized scan.
        int i = text.AsSpan().IndexOfAnyInRange('\u0300', '\uFFFF');
        if (i < 0) return text;

        // The quick check of UAX #15 section 9, from the last boundary on: a run passes while its combining classes
        // are in order and every code point has NFC_Quick_Check=Yes. A failing run is normalized from the last
        // boundary before it to the next boundary after it; normalization cannot reach across a boundary.
        StringBuilder? result = null;
        Scratch? scratch = null;
        int copied = 0, boundary = i > 0 ? i - 1 : 0, lastCcc = 0;
        var span = text.AsSpan();
        byte[] blockIndex = Tables.BlockIndex;
        ushort[] blocks = Tables.Blocks;
        while (i < span.Length)
        {
            int start = i;
            if (span[i] < 0x300)
            {
                // A run below U+0300: all boundaries. Short runs (the spaces between words of other scripts) are
                // stepped over; a long one is skipped by the same vectorized scan as above.
                int limit = Math.Min(span.Length, i + 16);
                do i++; while (i < limit && span[i] < 0x300);
                if (i == limit && i < span.Length && span[i] < 0x300)
                {
                    int run = span[i..].IndexOfAnyInRange('\u0300', '\uFFFF');
                    i = run < 0 ? span.Length : i + run;
                }
                boundary = i - 1;
                lastCcc = 0;
                continue;
            }
            int cp = ReadCodePoint(span, ref i);
            int p = blocks[blockIndex[cp >> 8] << 8 | (cp & 0xFF)];
            int ccc = p & CccMask;
            if ((p & (QcNo | QcMaybe)) == 0 && (ccc == 0 || lastCcc <= ccc))
            {
                if (ccc == 0) boundary = start;
                lastCcc = ccc;
                continue;
            }
            int end = i;
            for (int next = end; end < text.Length; end = next)
            {
                if (IsBoundary(ReadCodePoint(text, ref next))) break;
            }
            var segment = text.AsSpan(boundary, end - boundary);
            var normalized = (scratch ??= new Scratch()).Normalize(segment);
            if (result is not null || !normalized.Equals(segment))
            {
                result ??= new StringBuilder(text.Length + 16);
                result.Append(text, copied, boundary - copied).Append(normalized);
                copied = end;
            }
            i = boundary = end;
            lastCcc = 0;
        }
        return result is null ? text : result.Append(text, copied, text.Length - copied).ToString();
    }

    /// <summary>A code point with ccc 0 and NFC_Quick_Check=Yes: nothing before it composes with it (checked by NfcTables.py).</summary>
    static bool IsBoundary(int cp) => cp < 0x300 || (Properties(cp) & (CccMask | QcNo | QcMaybe)) == 0;

    /// <summary>The code point at <paramref name="i"/>, which moves past it; a lone surrogate is returned as itself.</summary>
    static int ReadCodePoint(ReadOnlySpan<char> s, ref int i)
    {
        char c = s[i++];
        if (char.IsHighSurrogate(c) && i < s.Length && char.IsLowSurrogate(s[i])) return char.ConvertToUtf32(c, s[i++]);
        return c;
    }

    /// <summary>Buffers for the slow path, reused across the segments of one call.</summary>
    sealed class Scratch
    {
        int[] _cps = new int[32];
        int _count;
        readonly StringBuilder _chars = new();

        /// <summary>The segment's NFC, in a builder that the next call reuses.</summary>
        public StringBuilder Normalize(ReadOnlySpan<char> segment)
        {
            _count = 0;
            for (int i = 0; i < segment.Length;) Decompose(ReadCodePoint(segment, ref i));
            Compose();
            _chars.Clear();
            Span<char> pair = stackalloc char[2];
            for (int k = 0; k < _count; k++)
            {
                int cp = _cps[k];
                if (cp > 0xFFFF) _chars.Append(pair[..new Rune(cp).EncodeToUtf16(pair)]);
                else _chars.Append((char)cp); // a lone surrogate goes back as it came
            }
            return _chars;
        }

        /// <summary>Full canonical decomposition (D68), each code point put in canonical order as it is added (D109).</summary>
        void Decompose(int cp)
        {
            int s = cp - SBase;
            if ((uint)s < SCount)
            {
                Add(LBase + s / NCount);
                Add(VBase + s % NCount / TCount);
                if (s % TCount != 0) Add(TBase + s % TCount);
            }
            else if ((Properties(cp) & HasDecomposition) != 0)
            {
                foreach (int d in Tables.FullDecomposition[cp]) Add(d);
            }
            else Add(cp);
        }

        /// <summary>Appends cp, moving it back past the non-starters of higher class before it (a stable insertion sort).</summary>
        void Add(int cp)
        {
            if (_count == _cps.Length) Array.Resize(ref _cps, _count * 2);
            int ccc = Properties(cp) & CccMask, j = _count++;
            if (ccc != 0)
            {
                for (; j > 0 && (Properties(_cps[j - 1]) & CccMask) > ccc; j--) _cps[j] = _cps[j - 1];
            }
            _cps[j] = cp;
        }

        /// <summary>
        /// Canonical composition (D117): each code point joins the last starter when they form a primary composite
        /// and nothing between them blocks it (D115: a code point between of class 0 or of class at least its own).
        /// Follows the sample code of UAX #15's first editions.
        /// </summary>
        void Compose()
        {
            if (_count == 0) return;
            int starterPos = 0, starter = _cps[0], lastCcc = Properties(starter) & CccMask, kept = 1;
            if (lastCcc != 0) lastCcc = 256; // text that begins with a non-starter has no starter to compose with
            for (int k = 1; k < _count; k++)
            {
                int cp = _cps[k], ccc = Properties(cp) & CccMask;
                if ((lastCcc == 0 || lastCcc < ccc) && TryCompose(starter, cp, out int composite))
                {
                    _cps[starterPos] = starter = composite;
                    continue;
                }
                if (ccc == 0)
                {
                    starterPos = kept;
                    starter = cp;
                }
                lastCcc = ccc;
                _cps[kept++] = cp;
            }
            _count = kept;
        }
    }

    static bool TryCompose(int first, int second, out int composite)
    {
        // Hangul (Unicode section 3.12): L + V makes an LV syllable, LV + T an LVT syllable.
        int l = first - LBase, v = second - VBase, s = first - SBase, t = second - TBase;
        if ((uint)l < LCount && (uint)v < VCount)
        {
            composite = SBase + (l * VCount + v) * TCount;
            return true;
        }
        if ((uint)s < SCount && s % TCount == 0 && t > 0 && t < TCount)
        {
            composite = first + t;
            return true;
        }
        return Tables.Compositions.TryGetValue(Key(first, second), out composite);
    }

    static long Key(int first, int second) => (long)first << 21 | (uint)second;

    // Properties of a code point in 16 bits: its Canonical_Combining_Class and three flags.
    const int CccMask = 0xFF;
    const int QcNo = 0x100;             // NFC_Quick_Check=No: never in NFC (Full_Composition_Exclusion)
    const int QcMaybe = 0x200;          // NFC_Quick_Check=Maybe: may compose with what precedes it
    const int HasDecomposition = 0x400; // a canonical mapping other than Hangul's

    // Hangul syllable constants (Unicode section 3.12).
    const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    static int Properties(int cp) => Tables.Blocks[Tables.BlockIndex[cp >> 8] << 8 | (cp & 0xFF)];

    /// <summary>Built on first use beyond U+0300, so text below it never pays for it.</summary>
    static class Tables
    {
        /// <summary>Two-stage table: block of 256 code points -> its slice of Blocks; block 0 is all zeros.</summary>
        public static readonly byte[] BlockIndex = new byte[0x1100];
        public static readonly ushort[] Blocks;
        public static readonly Dictionary<int, int[]> FullDecomposition = [];
        public static readonly Dictionary<long, int> Compositions = [];

        static Tables()
        {
            var props = new Dictionary<int, int>();
            void Set(int cp, int bits) => props[cp] = props.GetValueOrDefault(cp) | bits;

            var runs = CombiningClassRuns;
            for (int k = 0; k < runs.Length; k += 3)
            {
                for (int cp = runs[k]; cp <= runs[k + 1]; cp++) Set(cp, runs[k + 2]);
            }
            var excluded = new HashSet<int>();
            foreach (int cp in CompositionExclusions) excluded.Add(cp);
            var mappings = new Dictionary<int, (int First, int Second)>();
            var table = CanonicalDecompositions;
            for (int k = 0; k < table.Length; k += 3)
            {
                int cp = table[k], first = table[k + 1], second = table[k + 2];
                mappings[cp] = (first, second);
                if (second == 0 || excluded.Contains(cp)) Set(cp, HasDecomposition | QcNo);
                else
                {
                    Set(cp, HasDecomposition);
                    Set(second, QcMaybe);
                    Compositions[Key(first, second)] = cp;
                }
            }
            for (int cp = VBase; cp < VBase + VCount; cp++) Set(cp, QcMaybe);
            for (int cp = TBase + 1; cp < TBase + TCount; cp++) Set(cp, QcMaybe);

            foreach (int cp in mappings.Keys)
            {
                var full = new List<int>();
                Expand(cp, full);
                FullDecomposition[cp] = [.. full];
            }
            void Expand(int cp, List<int> output)
            {
                if (!mappings.TryGetValue(cp, out var m)) output.Add(cp);
                else
                {
                    Expand(m.First, output);
                    if (m.Second != 0) Expand(m.Second, output);
                }
            }

            var blocks = new List<ushort>(new ushort[256]);
            foreach (var group in props.GroupBy(e => e.Key >> 8).OrderBy(g => g.Key))
            {
                BlockIndex[group.Key] = checked((byte)(blocks.Count >> 8));
                blocks.AddRange(new ushort[256]);
                foreach (var (cp, bits) in group) blocks[blocks.Count - 256 + (cp & 0xFF)] = (ushort)bits;
            }
            Blocks = [.. blocks];
        }
    }
}
