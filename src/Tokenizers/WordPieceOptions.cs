using System.Text.Json;

namespace Rag.Tokenizers;

/// <summary>BERT's basic tokenizer and wordpiece settings (Hugging Face BertTokenizer / BertNormalizer names in comments).</summary>
public sealed record WordPieceOptions
{
    /// <summary>do_lower_case / lowercase.</summary>
    public bool LowerCase { get; init; } = true;

    /// <summary>strip_accents: null follows LowerCase, as both BERT implementations do.</summary>
    public bool? StripAccents { get; init; }

    /// <summary>tokenize_chinese_chars / handle_chinese_chars: every CJK ideograph becomes its own word.</summary>
    public bool TokenizeChineseChars { get; init; } = true;

    /// <summary>clean_text: drop control characters and U+FFFD, map whitespace to spaces.</summary>
    public bool CleanText { get; init; } = true;

    public string UnkToken { get; init; } = "[UNK]";
    public string ClsToken { get; init; } = "[CLS]";
    public string SepToken { get; init; } = "[SEP]";
    public string PadToken { get; init; } = "[PAD]";
    public string MaskToken { get; init; } = "[MASK]";

    /// <summary>continuing_subword_prefix: marks a piece that continues a word.</summary>
    public string ContinuingSubwordPrefix { get; init; } = "##";

    /// <summary>max_input_chars_per_word: longer words become [UNK] whole.</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;

    internal bool ShouldStripAccents => StripAccents ?? LowerCase;

    /// <summary>Options from a tokenizer_config.json (missing keys keep their defaults); defaults when the file is absent.</summary>
    public static WordPieceOptions FromTokenizerConfig(string? path)
    {
        var options = new WordPieceOptions();
        using var doc = TokenizerFiles.ReadOptionalJson(path);
        if (doc is null) return options;
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{path}: expected a JSON object.");
        return options with
        {
            LowerCase = root.GetBool("do_lower_case") ?? options.LowerCase,
            StripAccents = root.GetBool("strip_accents"),
            TokenizeChineseChars = root.GetBool("tokenize_chinese_chars") ?? options.TokenizeChineseChars,
            UnkToken = root.GetTokenContent("unk_token") ?? options.UnkToken,
            ClsToken = root.GetTokenContent("cls_token") ?? options.ClsToken,
            SepToken = root.GetTokenContent("sep_token") ?? options.SepToken,
            PadToken = root.GetTokenContent("pad_token") ?? options.PadToken,
            MaskToken = root.GetTokenContent("mask_token") ?? options.MaskToken,
        };
    }
}
