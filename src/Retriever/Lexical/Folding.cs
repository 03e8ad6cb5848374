using System.Text;

namespace Rag.Retriever.Lexical;

/// <summary>
/// Character folding for search. Full NFKC needs ICU, which this service runs without (InvariantGlobalization),
/// so the compatibility mappings that matter for search (Latin-1 and Latin Extended letters with their
/// diacritics removed, full-width forms, ligatures, super/subscripts, circled and fraction forms) come from
/// a table generated from Unicode data by FoldingTable.py. Where ICU is present, real NFKC runs first.
/// </summary>
internal static partial class Folding
{
    public static bool HasNormalization { get; } = ProbeNormalization();

    public static bool TryFold(char c, out string folded)
    {
        if (c < 0xA0) { folded = ""; return false; }
        return Table.TryGetValue(c, out folded!);
    }

    static bool ProbeNormalization()
    {
        try { return "\uFB01".Normalize(NormalizationForm.FormKC) == "fi"; }
        catch (PlatformNotSupportedException) { return false; }
    }
}
