using System.Globalization;
using System.Text.RegularExpressions;
using MimeKit;

namespace Rag.Ingest;

/// <summary>
/// .eml: an RFC 5322 message parsed with MimeKit. Subject, From, To, Cc and Date open the text as a header block;
/// the plain-text body follows, or the HTML body read as an .html upload is when the message has no plain part.
/// Each attachment of a supported type is read by its own extractor and follows under the heading
/// "Attachment: NAME" (a forwarded message likewise, recursively); an attachment that cannot be read is named with
/// the reason. The title is the Subject.
/// </summary>
public sealed partial class EmlExtractor(ExtractorRegistry attachments, ExtractionLimits? limits = null) : ITextExtractor
{
    /// <summary>Forwarded messages inside forwarded messages are read this deep, no deeper.</summary>
    const int MaxNesting = 4;

    readonly ExtractionLimits _limits = limits ?? ExtractionLimits.Default;

    public string Format => "eml";
    // Not validated as text at upload: a message may carry 8-bit and binary parts; a broken one fails in the pipeline.
    public bool IsText => false;
    public IReadOnlyList<string> Extensions { get; } = [".eml"];
    public IReadOnlyList<string> ContentTypes { get; } = ["message/rfc822"];

    public bool Sniff(ReadOnlySpan<byte> head) => false;

    public async Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        MimeMessage message;
        try
        {
            message = await MimeMessage.LoadAsync(new MemoryStream(content, writable: false), ct);
        }
        catch (FormatException e)
        {
            throw new ExtractionException($"The .eml file is not an e-mail message (its MIME headers cannot be read): {e.Message}", e);
        }
        var builder = new TextBuilder(_limits) { Title = message.Subject };
        if (!await WriteMessageAsync(builder, message, level: 0, ct)) throw new ExtractionException("The e-mail has no text: no body and no readable attachment.");
        return builder.Build();
    }

    /// <summary>The header block, the body and the attachments; false when neither body nor attachment had text.</summary>
    async Task<bool> WriteMessageAsync(TextBuilder b, MimeMessage message, int level, CancellationToken ct)
    {
        CheckStructure(message.Body);
        b.Paragraph();
        Header(b, "Subject", message.Subject);
        Header(b, "From", Addresses(message.From));
        Header(b, "To", Addresses(message.To));
        Header(b, "Cc", Addresses(message.Cc));
        if (message.Headers.Contains(HeaderId.Date))
            Header(b, "Date", message.Date.ToString("yyyy-MM-dd HH:mm zzz", CultureInfo.InvariantCulture));
        b.Paragraph();

        var anyText = false;
        if (message.TextBody is { } plain && !TextDecoding.IsBlank(plain))
        {
            foreach (var paragraph in BlankLines().Split(plain))
            {
                if (TextDecoding.IsBlank(paragraph)) continue;
                b.Paragraph();
                b.Write(paragraph.Trim(), preserve: true);
                b.Paragraph();
            }
            anyText = true;
        }
        else if (message.HtmlBody is { } html && !TextDecoding.IsBlank(html))
        {
            var start = b.Length;
            HtmlExtractor.Write(b, await HtmlExtractor.ParseAsync(html, ct), new HtmlLayout(HeadingOffset: level + 1), ct);
            anyText = b.Length > start;
        }

        foreach (var attachment in message.Attachments)
        {
            ct.ThrowIfCancellationRequested();
            anyText |= await WriteAttachmentAsync(b, attachment, level + 1, ct);
        }
        return anyText;
    }

    async Task<bool> WriteAttachmentAsync(TextBuilder b, MimeEntity attachment, int level, CancellationToken ct)
    {
        switch (attachment)
        {
            case MessagePart { Message: { } inner } when level <= MaxNesting:
                b.Heading(level, "Attachment: " + (attachment.ContentDisposition?.FileName ?? inner.Subject ?? "forwarded message"));
                return await WriteMessageAsync(b, inner, level, ct);
            case MimePart part when level <= MaxNesting && IsMessage(part):
                // A forwarded message sent base64-encoded (MimeKit parses only an unencoded one as a MessagePart).
                MimeMessage forwarded;
                using (var decoded = new MemoryStream())
                {
                    if (part.Content is not null) await part.Content.DecodeToAsync(decoded, ct);
                    decoded.Position = 0;
                    try { forwarded = await MimeMessage.LoadAsync(decoded, ct); }
                    catch (FormatException e) { return NotRead(b, level, part.FileName ?? "forwarded message", $"not an e-mail message: {e.Message}"); }
                }
                b.Heading(level, "Attachment: " + (part.FileName ?? forwarded.Subject ?? "forwarded message"));
                return await WriteMessageAsync(b, forwarded, level, ct);
            case MimePart part:
                var name = part.FileName ?? "unnamed attachment";
                var text = await ReadAsync(part, ct);
                if (text.Error is not null) return NotRead(b, level, name, text.Error);
                b.Heading(level, "Attachment: " + name);
                b.Append(text.Text!, levelOffset: level);
                return true;
            default:
                return false;
        }
    }

    static bool IsMessage(MimePart part) =>
        part.ContentType.IsMimeType("message", "rfc822") || string.Equals(Path.GetExtension(part.FileName), ".eml", StringComparison.OrdinalIgnoreCase);

    /// <summary>Names an attachment that has no text, and why, so the message still says it was there.</summary>
    static bool NotRead(TextBuilder b, int level, string name, string reason)
    {
        b.Heading(level, "Attachment: " + name);
        b.Paragraph();
        b.Write($"(not read: {reason})");
        b.Paragraph();
        return false;
    }

    /// <summary>An attachment's text through the extractor its name or type selects, or why it has none.</summary>
    async Task<(ExtractedText? Text, string? Error)> ReadAsync(MimePart part, CancellationToken ct)
    {
        using var decoded = new MemoryStream();
        if (part.Content is null) return (null, "the part is empty");
        await part.Content.DecodeToAsync(decoded, ct);
        var bytes = decoded.ToArray();
        if (bytes.Length == 0) return (null, "the part is empty");
        var extractor = attachments.Resolve(part.FileName, part.ContentType.MimeType, bytes.AsSpan(0, Math.Min(16, bytes.Length)));
        if (extractor is null) return (null, $"unsupported type {part.ContentType.MimeType}");
        try
        {
            var text = await extractor.ExtractAsync(bytes, ct);
            return TextDecoding.IsBlank(text.Text) ? (null, "no text") : (text, null);
        }
        catch (ExtractionException e)
        {
            return (null, e.Message); // one unreadable attachment does not fail the message
        }
    }

    /// <summary>
    /// MimeKit reads damaged messages leniently; a multipart whose boundary never occurs comes back with no parts
    /// (its content lost in the preamble), which is refused rather than indexed as an empty message.
    /// </summary>
    static void CheckStructure(MimeEntity? body)
    {
        if (body is null) throw new ExtractionException("The e-mail has no body: its MIME structure ends after the headers.");
        if (body is not Multipart multipart) return;
        if (multipart.Count == 0)
        {
            var boundary = multipart.Boundary is { Length: > 0 } bd ? $"its boundary \"{bd}\" never occurs" : "it declares no boundary";
            throw new ExtractionException($"The e-mail's MIME structure is broken: its {multipart.ContentType.MimeType} part has no parts ({boundary}).");
        }
        foreach (var child in multipart) CheckStructure(child);
    }

    static void Header(TextBuilder b, string name, string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return;
        b.Line();
        b.Write($"{name}: {value}");
        b.Line();
    }

    static string Addresses(InternetAddressList list) =>
        string.Join(", ", list.Mailboxes.Select(m => string.IsNullOrEmpty(m.Name) ? m.Address : $"{m.Name} <{m.Address}>"));

    [GeneratedRegex(@"\r?\n[ \t]*\r?\n")]
    private static partial Regex BlankLines();
}
