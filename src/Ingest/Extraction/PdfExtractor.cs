using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Rag.Ingest;

/// <summary>
/// .pdf: poppler's pdftotext run as a child process (plain reading order, not -layout, which pads
/// columns with spaces and breaks prose). pdftotext ends every page with a form feed, so splitting on
/// '\f' keeps page numbers. The process is killed on cancellation or after the timeout.
/// </summary>
public sealed class PdfExtractor(string toolPath = "pdftotext", TimeSpan? timeout = null) : ITextExtractor
{
    public const string MissingToolMessage = "PDF extraction needs poppler's pdftotext (apt-get install poppler-utils).";

    readonly TimeSpan _timeout = timeout ?? TimeSpan.FromMinutes(2);

    public string Format => "pdf";
    public bool IsText => false;
    public IReadOnlyList<string> Extensions { get; } = [".pdf"];
    public IReadOnlyList<string> ContentTypes { get; } = ["application/pdf"];

    public bool Sniff(ReadOnlySpan<byte> head) => head.StartsWith("%PDF-"u8);

    public async Task<ExtractedText> ExtractAsync(byte[] content, CancellationToken ct = default)
    {
        // pdftotext seeks, so it reads a file rather than stdin.
        var path = Path.Combine(Path.GetTempPath(), $"rag-ingest-{Guid.NewGuid():N}.pdf");
        try
        {
            await File.WriteAllBytesAsync(path, content, ct);
            var output = await RunAsync(path, ct);
            return BuildPages(output);
        }
        finally
        {
            try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    async Task<string> RunAsync(string pdfPath, CancellationToken ct)
    {
        var start = new ProcessStartInfo(toolPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in new[] { "-enc", "UTF-8", "-eol", "unix", pdfPath, "-" }) start.ArgumentList.Add(arg);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new ExtractionException(MissingToolMessage, e);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(_timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
            var text = await stdout;
            var errors = (await stderr).Trim();
            if (process.ExitCode != 0)
                throw new ExtractionException($"The PDF could not be read (pdftotext exit code {process.ExitCode}): {(errors.Length > 0 ? errors : "no message")}");
            return text;
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new ExtractionException($"pdftotext did not finish within {_timeout.TotalSeconds:0} s; the PDF is too large or malformed.");
        }
    }

    internal static ExtractedText BuildPages(string output)
    {
        var pages = output.Split('\f');
        // The last form feed ends the last page; what follows it is not a page.
        var count = pages.Length > 1 && string.IsNullOrWhiteSpace(pages[^1]) ? pages.Length - 1 : pages.Length;
        var builder = new TextBuilder();
        for (var i = 0; i < count; i++)
        {
            builder.Page(i + 1);
            builder.Write(pages[i].Trim(), preserve: true);
        }
        var result = builder.Build();
        if (TextDecoding.IsBlank(result.Text))
            throw new ExtractionException("The PDF has no extractable text (a scanned PDF needs OCR, which is not supported).");
        return result;
    }
}
