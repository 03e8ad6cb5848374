using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Rag.Generator.Remote;

/// <summary>An <see cref="IChatClient"/> for any OpenAI-compatible endpoint: OpenAI, vLLM, Ollama, llama.cpp's server.</summary>
public static class RemoteChatClientFactory
{
    /// <summary>Servers that check no key (Ollama, vLLM without --api-key) still need the header to be well-formed.</summary>
    public const string NoKey = "no-key";

    /// <param name="baseUrl">The API root, ending in /v1 for most servers (e.g. http://localhost:11434/v1).</param>
    /// <param name="apiKey">Sent as a bearer token; null or empty sends a placeholder.</param>
    /// <param name="model">The model name the server knows (e.g. "qwen2.5:7b-instruct").</param>
    /// <param name="httpClient">Transport to use; null uses the OpenAI library's own. Tests pass one over a fake handler.</param>
    public static IChatClient Create(Uri baseUrl, string? apiKey, string model, HttpClient? httpClient = null)
    {
        ArgumentNullException.ThrowIfNull(baseUrl);
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        if (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException($"The remote generator's base URL must be an absolute http(s) URL, not '{baseUrl}'.", nameof(baseUrl));

        var options = new OpenAIClientOptions { Endpoint = baseUrl };
        if (httpClient is not null) options.Transport = new HttpClientPipelineTransport(httpClient);
        var credential = new ApiKeyCredential(string.IsNullOrEmpty(apiKey) ? NoKey : apiKey);
        return new OpenAI.Chat.ChatClient(model, credential, options).AsIChatClient();
    }

    public static IChatClient Create(string baseUrl, string? apiKey, string model, HttpClient? httpClient = null) =>
        Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri)
            ? Create(uri, apiKey, model, httpClient)
            : throw new ArgumentException($"The remote generator's base URL is not a URL: '{baseUrl}'.", nameof(baseUrl));
}
