using System.Text;

namespace Rag.Ingest;

/// <summary>
/// Token count without a tokenizer, shaped like BERT's WordPiece: text splits on whitespace and
/// punctuation; each CJK ideograph and each punctuation or symbol character is one token; a word is
/// one token up to 8 characters and one more per further 6 (WordPiece's "##" continuations).
/// It overestimates slightly for common English, so chunks stay under a real tokenizer's budget.
/// </summary>
public static class ApproximateTokenCounter
{
    public static int Count(ReadOnlySpan<char> text)
    {
        var tokens = 0;
        var word = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            if (Rune.IsLetterOrDigit(rune) && !IsCjk(rune.Value) || Rune.GetUnicodeCategory(rune) is
                    System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark)
            {
                word++;
                continue;
            }
            tokens += WordTokens(word);
            word = 0;
            if (!Rune.IsWhiteSpace(rune)) tokens++; // punctuation, symbol, CJK ideograph
        }
        return tokens + WordTokens(word);
    }

    static int WordTokens(int length) => length == 0 ? 0 : 1 + Math.Max(0, length - 3) / 6;

    // The CJK blocks BERT's tokenizer splits into single characters (_is_chinese_char).
    static bool IsCjk(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
