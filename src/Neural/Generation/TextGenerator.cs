using System.Runtime.CompilerServices;
using Rag.Neural.Models;
using Rag.Neural.Weights;
using Rag.Tokenizers;

namespace Rag.Neural.Generation;

/// <summary>A decoder language model with its byte-level BPE tokenizer: prompt in, streamed text out.</summary>
public sealed class TextGenerator : ITextGeneratorModel
{
    readonly Checkpoint _weights;
    readonly ByteLevelBpeTokenizer _tokenizer;
    readonly HashSet<int> _eos;
    readonly int? _bos;

    public CausalLm Model { get; }
    public string Architecture => Model.Architecture;
    public ITokenizer Tokenizer => _tokenizer;
    public int ContextLength => Model.ContextLength;
    public IReadOnlySet<int> EosIds => _eos;

    /// <param name="bos">Prepended to every prompt that does not start with it (Llama); null for GPT-2 and Qwen2.</param>
    public TextGenerator(CausalLm model, Checkpoint weights, ByteLevelBpeTokenizer tokenizer, IEnumerable<int> eosIds, int? bos)
    {
        Model = model;
        _weights = weights;
        _tokenizer = tokenizer;
        _eos = [.. eosIds];
        _bos = bos;
    }

    /// <summary>The prompt's token ids as the model will see them (special tokens such as &lt;|im_start|&gt; recognised).</summary>
    public int[] EncodePrompt(string prompt)
    {
        var ids = _tokenizer.Encode(prompt, allowSpecial: true);
        if (_bos is { } bos && (ids.Length == 0 || ids[0] != bos)) ids = [bos, .. ids];
        return ids;
    }

    public async IAsyncEnumerable<string> GenerateAsync(string prompt, GenerationOptions options, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxNewTokens < 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxNewTokens must be >= 0");
        var ids = EncodePrompt(prompt);
        if (ids.Length == 0) throw new ArgumentException("the prompt encodes to no tokens and the model has no BOS token", nameof(prompt));
        if (ids.Length >= ContextLength)
            throw new ArgumentException($"the prompt has {ids.Length} tokens; the model's context is {ContextLength}", nameof(prompt));
        int budget = Math.Min(options.MaxNewTokens, ContextLength - ids.Length);
        if (budget == 0) yield break;

        var sampler = new Sampler(options, Model.VocabSize);
        foreach (var id in ids) sampler.Observe(id);
        var state = Model.CreateState(ids.Length + budget);
        var decoder = _tokenizer.CreateStreamingDecoder(skipSpecialTokens: true);
        var stops = new StopStringFilter(options.StopStrings);

        // Compute runs on the thread pool so the caller's thread (a request, a UI) is never blocked.
        await Task.Run(() => Model.Forward(state, ids), ct).ConfigureAwait(false);
        var next = new int[1];
        for (int produced = 0; ;)
        {
            ct.ThrowIfCancellationRequested();
            int token = sampler.Next(state.Logits.Span);
            if (_eos.Contains(token)) break;
            sampler.Observe(token);
            produced++;
            var (emit, stopped) = stops.Push(decoder.Append(token));
            if (emit.Length > 0) yield return emit;
            if (stopped) yield break;
            if (produced >= budget) break;
            next[0] = token;
            await Task.Run(() => Model.Forward(state, next), ct).ConfigureAwait(false);
        }
        var tail = stops.Push(decoder.Flush());
        var rest = tail.Stopped ? tail.Emit : tail.Emit + stops.Flush();
        if (rest.Length > 0) yield return rest;
    }

    public void Dispose() => _weights.Dispose();
}
