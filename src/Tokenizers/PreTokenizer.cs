using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Rag.Tokenizers;

/// <summary>
/// Splits text into the pieces byte-level BPE works on, with one of the published pre-tokenizer regexes.
/// .NET's Regex matches UTF-16 units, so a letter or digit outside the BMP (U+10000 up) would not match
/// \p{L} or \p{N} as it does in Rust or Python; text holding surrogates is therefore matched on a shadow copy
/// with one BMP stand-in of the same class per code point, and the pieces are mapped back.
/// </summary>
public sealed class PreTokenizer
{
    /// <summary>GPT-2 (openai/gpt-2 encoder.py).</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>Llama 3 (meta-llama/llama3 tokenizer.py; the same regex as tiktoken's cl100k_base).</summary>
    public const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>Qwen2: Llama 3's regex with single digits.</summary>
    public const string Qwen2Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    readonly Regex _regex;

    public PreTokenizer(string pattern)
    {
        Pattern = pattern;
        try { _regex = new Regex(pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new ArgumentException($"Pre-tokenizer pattern is not a valid .NET regex: {pattern}", nameof(pattern), e); }
    }

    public string Pattern { get; }

    /// <summary>The pattern a Hugging Face model_type or tokenizer_class uses; GPT-2's for unknown ones.</summary>
    public static string PatternFor(string? modelTypeOrClass) => modelTypeOrClass?.ToLowerInvariant() switch
    {
        "qwen2" or "qwen2_moe" or "qwen3" or "qwen2tokenizer" or "qwen2tokenizerfast" => Qwen2Pattern,
        "llama" or "llama3" => Llama3Pattern,
        _ => Gpt2Pattern,
    };

    /// <summary>Appends (start, length) of each piece; gaps between matches become pieces too (Hugging Face's Isolated split).</summary>
    public void Split(ReadOnlySpan<char> text, List<(int Start, int Length)> pieces)
    {
        int surrogate = text.IndexOfAnyInRange('\uD800', '\uDFFF');
        if (surrogate < 0)
        {
            int last = 0;
            foreach (var m in _regex.EnumerateMatches(text))
            {
                if (m.Length == 0) continue;
                if (m.Index > last) pieces.Add((last, m.Index - last));
                pieces.Add((m.Index, m.Length));
                last = m.Index + m.Length;
            }
            if (last < text.Length) pieces.Add((last, text.Length - last));
            return;
        }
        SplitWithShadow(text, pieces);
    }

    void SplitWithShadow(ReadOnlySpan<char> text, List<(int Start, int Length)> pieces)
    {
        var shadow = ArrayPool<char>.Shared.Rent(text.Length);
        var origin = ArrayPool<int>.Shared.Rent(text.Length + 1); // shadow index -> text index
        try
        {
            int n = 0;
            for (int i = 0; i < text.Length;)
            {
                origin[n] = i;
                if (!char.IsSurrogate(text[i])) { shadow[n++] = text[i++]; continue; }
                Rune.DecodeFromUtf16(text[i..], out var rune, out int len); // a lone surrogate decodes as U+FFFD, a symbol
                shadow[n++] = StandIn(rune);
                i += len;
            }
            origin[n] = text.Length;
            int last = 0;
            foreach (var m in _regex.EnumerateMatches(shadow.AsSpan(0, n)))
            {
                if (m.Length == 0) continue;
                if (m.Index > last) pieces.Add((origin[last], origin[m.Index] - origin[last]));
                pieces.Add((origin[m.Index], origin[m.Index + m.Length] - origin[m.Index]));
                last = m.Index + m.Length;
            }
            if (last < n) pieces.Add((origin[last], text.Length - origin[last]));
        }
        finally
        {
            ArrayPool<char>.Shared.Return(shadow);
            ArrayPool<int>.Shared.Return(origin);
        }
    }

    // Only the classes the patterns test matter: letter, number, whitespace, CR/LF, apostrophe, anything else.
    // No supplementary code point is whitespace, CR/LF or an apostrophe.
    static char StandIn(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => 'x',
        UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => '0',
        _ => '\u00A9',
    };
}
