using System.Globalization;
using System.Text;
using Rag.Tokenizers.Normalization;

namespace Rag.Tokenizers.Tests.Normalization;

public class UnicodeNfcTests
{
    static readonly Lazy<List<(string Input, string Expected, string Note)>> Reference = new(() =>
    {
        // Fixtures/nfc-reference.tsv: Python's unicodedata.normalize('NFC', s), written by make_nfc_reference.py.
        var path = Path.Combine(AppContext.BaseDirectory, "Normalization", "Fixtures", "nfc-reference.tsv");
        return [.. File.ReadLines(path).Select(line => line.Split('\t')).Select(f => (Text(f[0]), Text(f[1]), f[2]))];
    });

    /// <summary>Hex code points separated by spaces; a surrogate code point becomes that lone UTF-16 unit.</summary>
    static string Text(string hex)
    {
        var sb = new StringBuilder();
        foreach (var h in hex.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            int cp = int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (cp is >= 0xD800 and <= 0xDFFF) sb.Append((char)cp);
            else sb.Append(char.ConvertFromUtf32(cp));
        }
        return sb.ToString();
    }

    static string Hex(string s) => string.Join(' ', s.Select(c => ((int)c).ToString("X4", CultureInfo.InvariantCulture)));

    [Fact]
    public void Matches_python_unicodedata_on_every_reference_string()
    {
        var failures = Reference.Value
            .Where(r => UnicodeNfc.Normalize(r.Input) != r.Expected)
            .Select(r => $"{r.Note}: {Hex(r.Input)} -> {Hex(UnicodeNfc.Normalize(r.Input))}, expected {Hex(r.Expected)}")
            .ToList();
        Assert.True(failures.Count == 0, $"{failures.Count} of {Reference.Value.Count} differ:\n{string.Join('\n', failures.Take(20))}");
    }

    [Fact]
    public void Reference_covers_what_it_claims()
    {
        var notes = Reference.Value.GroupBy(r => r.Note).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(notes["single"] > 6000, "every code point with a decomposition or a combining class");
        Assert.Equal(400, notes["random"]);
        Assert.True(Reference.Value.Count(r => r.Input != r.Expected) > 2000, "many lines must change under NFC");
    }

    [Fact]
    public void Text_already_in_nfc_comes_back_as_the_same_instance()
    {
        foreach (var (_, expected, note) in Reference.Value)
            Assert.True(ReferenceEquals(expected, UnicodeNfc.Normalize(expected)), $"{note}: {Hex(expected)}");
        foreach (var s in new[] { "", "plain ASCII", "caf\u00E9 na\u00EFve \u00C5ngstr\u00F6m", "\u4E2D\u6587 \uD55C\uAD6D\uC5B4 \u0395\u03BB\u03BB\u03B7\u03BD\u03B9\u03BA\u03AC", "\U0001F44D\U0001F3FD x\u0301" })
            Assert.Same(s, UnicodeNfc.Normalize(s));
    }

    [Fact]
    public void Decomposed_accents_compose()
    {
        Assert.Equal("caf\u00E9", UnicodeNfc.Normalize("cafe\u0301"));
        Assert.Equal("\u00C5", UnicodeNfc.Normalize("\u212B"));
        Assert.Equal("\u1EC7", UnicodeNfc.Normalize("e\u0302\u0323"));
        Assert.Equal("\uD55C", UnicodeNfc.Normalize("\u1112\u1161\u11AB"));
    }

    [Fact]
    public void Long_text_with_scattered_marks_is_normalized_piece_by_piece()
    {
        // Stable runs between the changes are copied; the result must still equal normalizing each piece.
        var decomposed = new StringBuilder();
        var composed = new StringBuilder();
        for (int k = 0; k < 2000; k++)
        {
            string filler = k % 3 == 0 ? "plain text " : k % 3 == 1 ? "\u4E2D\u6587 \u00E9t\u00E9 " : "\U0001D400\uD800 ";
            decomposed.Append(filler).Append("A\u030A\u0301").Append(k % 7 == 0 ? "\u0958" : "");
            composed.Append(filler).Append('\u01FA').Append(k % 7 == 0 ? "\u0915\u093C" : "");
        }
        Assert.Equal(composed.ToString(), UnicodeNfc.Normalize(decomposed.ToString()));
    }

    [Fact]
    public void Lone_surrogates_stay_where_they_are()
    {
        Assert.Equal("\uD800\u0301", UnicodeNfc.Normalize("\uD800\u0301"));
        Assert.Equal("\u00E9\uDC00", UnicodeNfc.Normalize("e\u0301\uDC00"));
        Assert.Equal("\uDC00\uD800\u00E9", UnicodeNfc.Normalize("\uDC00\uD800e\u0301"));
    }
}
