using System.Globalization;
using System.Text.RegularExpressions;
using MimeKit;

namespace Rag.Ingest;

/// <summary>
/// .eml: an RFC 5322 message parsed with MimeKit. Subject, From, To, Cc and Date open the text as a header block;
/// the plain-text body follows, or the HTML body read as an .html upload is when the message has no plain part.
/// Then the attachments are listed by name under "Attachments": each of a type the registry reads is returned in
/// <see cref="ExtractedText.Attachments"/> (ingestion makes it a document of its own, whose parent is the message),
/// up to <see cref="ExtractionLimits.MaxAttachments"/>; any other is named with the reason it is not read. A forwarded
/// message stays part of the message: it follows under "Attachment: NAME" (recursively, its own attachments becoming
/// documents of the outermost message). The title is the Subject.
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
        var walk = new Walk();
        if (!await WriteMessageAsync(builder, message, level: 0, walk, ct)) throw new ExtractionException("The e-mail has no text: no body and no readable attachment.");
        return builder.Build() with { Attachments = walk.Documents };
    }

    /// <summary>The attachments met so far in the whole message (forwarded ones included), and those that are documents.</summary>
    sealed class Walk
    {
        public int Seen;
        public List<ExtractedAttachment> Documents { get; } = [];
    }

    /// <summary>The header block, the body and the attachments; false when the message has no body text and no readable attachment.</summary>
    async Task<bool> WriteMessageAsync(TextBuilder b, MimeMessage message, int level, Walk walk, CancellationToken ct)
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

        // Files are listed by name (their text is their own document's); forwarded messages follow in full.
        var listed = new List<string>();
        var forwarded = new List<(string Name, MimeMessage Message)>();
        var inner = level + 1;
        foreach (var attachment in message.Attachments)
        {
            ct.ThrowIfCancellationRequested();
            switch (attachment)
            {
                case MessagePart { Message: { } attached } when inner <= MaxNesting:
                    forwarded.Add((attachment.ContentDisposition?.FileName ?? attached.Subject ?? "forwarded message", attached));
                    break;
                case MimePart part when inner <= MaxNesting && IsMessage(part):
                    // A forwarded message sent base64-encoded (MimeKit parses only an unencoded one as a MessagePart).
                    using (var decoded = new MemoryStream())
                    {
                        if (part.Content is not null) await part.Content.DecodeToAsync(decoded, ct);
                        decoded.Position = 0;
                        try
                        {
                            var loaded = await MimeMessage.LoadAsync(decoded, ct);
                            forwarded.Add((part.FileName ?? loaded.Subject ?? "forwarded message", loaded));
                        }
                        catch (FormatException e)
                        {
                            listed.Add(NotRead(part.FileName ?? "forwarded message", $"not an e-mail message: {e.Message}"));
                        }
                    }
                    break;
                case MimePart part:
                    var (entry, isDocument) = await ListAsync(part, walk, ct);
                    listed.Add(entry);
                    anyText |= isDocument;
                    break;
            }
        }
        if (listed.Count > 0)
        {
            b.Heading(inner, "Attachments");
            foreach (var entry in listed)
            {
                b.Line();
                b.Write(entry);
                b.Line();
            }
        }
        foreach (var (name, fwd) in forwarded)
        {
            b.Heading(inner, "Attachment: " + name);
            anyText |= await WriteMessageAsync(b, fwd, inner, walk, ct);
        }
        return anyText;
    }

    static bool IsMessage(MimePart part) =>
        part.ContentType.IsMimeType("message", "rfc822") || string.Equals(Path.GetExtension(part.FileName), ".eml", StringComparison.OrdinalIgnoreCase);

    /// <summary>How an attachment is named in the list, and whether it is a document of its own (then it is added to the walk's).</summary>
    async Task<(string Entry, bool IsDocument)> ListAsync(MimePart part, Walk walk, CancellationToken ct)
    {
        var index = ++walk.Seen;
        var fileName = CleanFileName(part.FileName);
        var name = fileName ?? $"attachment {index}";
        if (walk.Documents.Count >= _limits.MaxAttachments)
            return (NotRead(name, $"over the limit of {_limits.MaxAttachments} attachments per message, Rag:Limits:MaxAttachments"), false);
        if (part.Content is null) return (NotRead(name, "the part is empty"), false);
        using var decoded = new MemoryStream();
        await part.Content.DecodeToAsync(decoded, ct);
        var bytes = decoded.ToArray();
        if (bytes.Length == 0) return (NotRead(name, "the part is empty"), false);
        var extractor = attachments.Resolve(fileName, part.ContentType.MimeType, bytes.AsSpan(0, Math.Min(16, bytes.Length)));
        if (extractor is null) return (NotRead(name, $"unsupported type {part.ContentType.MimeType}"), false);
        // Read as its own document, so a broken one fails there with its own error and the message is indexed regardless.
        walk.Documents.Add(new ExtractedAttachment(index, fileName, extractor.ContentTypes[0], bytes));
        return (name, true);
    }

    /// <summary>An attachment's name as a file name: no folders, no control characters; null when it has none.</summary>
    static string? CleanFileName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        var clean = string.Concat(Path.GetFileName(name.Replace('\\', '/')).Where(c => !char.IsControl(c))).Trim();
        return clean.Length == 0 ? null : clean;
    }

    /// <summary>Names an attachment that is not read, and why, so the message still says it was there.</summary>
    static string NotRead(string name, string reason) => $"{name} (not read: {reason})";

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
