using System.Text;

namespace Rag.Api.Tests.Chat;

/// <summary>Reads a text/event-stream response frame by frame, as a browser would.</summary>
public static class Sse
{
    public sealed record Frame(string? Event, string Data);

    public static async IAsyncEnumerable<Frame> ReadAsync(HttpResponseMessage response)
    {
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(), Encoding.UTF8);
        string? eventName = null;
        var data = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0) yield return new Frame(eventName, data.ToString());
                eventName = null;
                data.Clear();
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) eventName = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(data.Length > 0 ? "\n" : "").Append(line[6..]);
        }
    }
}
