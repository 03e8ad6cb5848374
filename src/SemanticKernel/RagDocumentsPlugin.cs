using System.ComponentModel;
using Microsoft.SemanticKernel;
using Rag.Client;

namespace Rag.SemanticKernel;

/// <summary>A passage as search_documents returns it to the model: where it comes from, and its text.</summary>
public sealed record DocumentPassage(int Rank, string DocumentId, string DocumentTitle, string ChunkId, string Text, float Score);

/// <summary>A grounded answer: [n] in the text refers to Citations[n], each naming its document and passage.</summary>
public sealed record DocumentAnswer(string Answer, IReadOnlyList<RagCitation> Citations, IReadOnlyList<string> Notices);

/// <summary>
/// Semantic Kernel functions over the Rag service: search_documents (passages) and ask_documents (a grounded
/// answer with its citations). The service does the retrieval and generation; the API key fixes the tenant.
/// </summary>
public sealed class RagDocumentsPlugin(RagClient client)
{
    public const string DefaultName = "rag";

    /// <summary>The plugin to add to a kernel: <c>kernel.Plugins.Add(RagDocumentsPlugin.Create(client))</c>.</summary>
    public static KernelPlugin Create(RagClient client, string pluginName = DefaultName) =>
        KernelPluginFactory.CreateFromObject(new RagDocumentsPlugin(client), pluginName);

    [KernelFunction("search_documents")]
    [Description("Searches the user's uploaded documents and returns the most relevant passages, each with its document id and title.")]
    public async Task<IReadOnlyList<DocumentPassage>> SearchDocumentsAsync(
        [Description("What to look for, in the user's words.")] string query,
        [Description("How many passages to return (1-100).")] int count = 5,
        CancellationToken cancellationToken = default)
    {
        var result = await client.SearchAsync(query, new RagQueryOptions { K = count }, cancellationToken);
        return [.. result.Results.Select(h => new DocumentPassage(h.Rank, h.DocumentId, h.DocumentTitle, h.ChunkId, h.Text, h.Score))];
    }

    [KernelFunction("ask_documents")]
    [Description("Answers a question from the user's uploaded documents. The answer cites its sources as [1], [2]..., listed in citations with their document ids.")]
    public async Task<DocumentAnswer> AskDocumentsAsync(
        [Description("The question, as a standalone sentence.")] string question,
        CancellationToken cancellationToken = default)
    {
        var answer = await client.AskAsync(question, ct: cancellationToken);
        return new DocumentAnswer(answer.Answer, answer.Citations, answer.Notices);
    }
}
