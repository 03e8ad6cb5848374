using System.Text;
using System.Text.Json;

namespace Rag.Eval;

/// <summary>
/// A run's results.jsonl: one <see cref="QuestionResult"/> per line, appended as each question finishes, so a
/// stopped run resumes from it. A torn last line (the process died mid-write) or a damaged line is dropped on
/// open and that question is simply asked again. One writer at a time: the file is held with an exclusive lock.
/// </summary>
public sealed class ResultsFile : IAsyncDisposable
{
    readonly FileStream _stream;
    readonly SemaphoreSlim _gate = new(1, 1);

    ResultsFile(FileStream stream) => _stream = stream;

    public string Path => _stream.Name;

    /// <summary>The valid results already in the file (by question id, last one wins) and the file opened for appending.</summary>
    public static async Task<(ResultsFile File, Dictionary<string, QuestionResult> Existing)> OpenAsync(string path, CancellationToken ct)
    {
        FileStream stream;
        try
        {
            // FileShare.None is an exclusive lock on Unix too (.NET takes a flock), so a second process is kept out.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new ResultsFileInUseException($"The eval run's results file {path} is in use: is the same run already going in another process?", e);
        }
        try
        {
            var existing = new Dictionary<string, QuestionResult>(StringComparer.Ordinal);
            var bytes = new byte[stream.Length];
            await stream.ReadExactlyAsync(bytes, ct);
            var good = new List<byte[]>();
            var damaged = false;
            var start = 0;
            while (start < bytes.Length)
            {
                var end = Array.IndexOf(bytes, (byte)'\n', start);
                // A last line with no newline was being written when the process stopped.
                if (end < 0) { damaged = true; break; }
                var line = bytes.AsSpan(start, end - start);
                if (line.Length > 0)
                {
                    if (TryParse(line) is { } result) { existing[result.QuestionId] = result; good.Add(line.ToArray()); }
                    else damaged = true;
                }
                start = end + 1;
            }
            if (damaged)
            {
                // Rewrite with only the good lines; a question whose line was lost is asked again.
                stream.SetLength(0);
                foreach (var line in good)
                {
                    await stream.WriteAsync(line, ct);
                    stream.WriteByte((byte)'\n');
                }
                await stream.FlushAsync(ct);
            }
            stream.Seek(0, SeekOrigin.End);
            return (new ResultsFile(stream), existing);
        }
        catch
        {
            await stream.DisposeAsync();
            throw;
        }
    }

    static QuestionResult? TryParse(ReadOnlySpan<byte> line)
    {
        try
        {
            // A line that parses but lacks a field the scorer reads (another writer's shape) is damaged too:
            // the serializer leaves missing non-nullable lists null rather than refusing them.
            return JsonSerializer.Deserialize<QuestionResult>(line, EvalJson.Lines) is
            { QuestionId: not null, Question: not null, Answers: not null, GoldDocumentIds: not null, Retrieved: not null } r ? r : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public async Task AppendAsync(QuestionResult result, CancellationToken ct)
    {
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(result, EvalJson.Lines) + "\n");
        // The line is written whole even when ct fires, so the file never holds half a line we made.
        await _gate.WaitAsync(ct);
        try
        {
            await _stream.WriteAsync(bytes, CancellationToken.None);
            await _stream.FlushAsync(CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _gate.Dispose();
    }
}

/// <summary>Another run (in this process or another) holds the results file: the same run folder is already being written.</summary>
public sealed class ResultsFileInUseException(string message, Exception inner) : InvalidOperationException(message, inner);
