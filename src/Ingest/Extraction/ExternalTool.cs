using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Rag.Ingest;

/// <summary>
/// Runs a command-line tool (pdftotext, pdftoppm, tesseract) as a child process: its standard output as
/// text, killed with its children on cancellation or after the time limit. A missing tool, a non-zero exit and
/// a timeout each become an <see cref="ExtractionException"/> that says which.
/// </summary>
internal static class ExternalTool
{
    /// <param name="what">What is being read, for the failure message ("The PDF").</param>
    /// <param name="missing">The message when the tool is not installed (it should name the package).</param>
    public static async Task<string> RunAsync(string tool, IEnumerable<string> arguments, TimeSpan timeout, string what, string missing, CancellationToken ct)
    {
        var start = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in arguments) start.ArgumentList.Add(arg);

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new ExtractionException(missing, e);
        }

        var name = Path.GetFileName(tool);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        var stdout = process.StandardOutput.ReadToEndAsync(deadline.Token);
        var stderr = process.StandardError.ReadToEndAsync(deadline.Token);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
            var text = await stdout;
            var errors = (await stderr).Trim();
            if (process.ExitCode != 0)
                throw new ExtractionException($"{what} could not be read ({name} exit code {process.ExitCode}): {(errors.Length > 0 ? errors : "no message")}");
            return text;
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            ct.ThrowIfCancellationRequested();
            throw new ExtractionException($"{name} did not finish within {timeout.TotalSeconds:0} s; {what.ToLowerInvariant()} is too large or malformed.");
        }
    }

    /// <summary>A temporary file for a tool to read; deleted when disposed.</summary>
    public static async Task<TempFile> WriteTempAsync(byte[] content, string extension, CancellationToken ct)
    {
        var file = new TempFile(Path.Combine(Path.GetTempPath(), $"rag-ingest-{Guid.NewGuid():N}{extension}"));
        await File.WriteAllBytesAsync(file.Path, content, ct);
        return file;
    }

    public sealed class TempFile(string path) : IDisposable
    {
        public string Path { get; } = path;

        public void Dispose()
        {
            try { File.Delete(Path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
