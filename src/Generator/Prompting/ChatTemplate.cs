using System.Text;
using Microsoft.Extensions.AI;

namespace Rag.Generator.Prompting;

/// <summary>
/// How a decoder expects a conversation laid out as one prompt string, and the strings that end its turn.
/// One small table by architecture: ChatML (Qwen2), Llama-3, and a plain "Question:/Answer:" layout for
/// base models such as GPT-2 that were never tuned on a chat format.
/// </summary>
public abstract class ChatTemplate
{
    public abstract string Name { get; }

    /// <summary>Strings after which generation stops; they are not part of the answer.</summary>
    public abstract IReadOnlyList<string> StopStrings { get; }

    /// <summary>The prompt for these messages, ending where the assistant's reply begins.</summary>
    public abstract string Render(IEnumerable<ChatMessage> messages);

    public static ChatTemplate ChatMl { get; } = new ChatMlTemplate();
    public static ChatTemplate Llama3 { get; } = new Llama3Template();
    public static ChatTemplate Plain { get; } = new PlainTemplate();

    /// <summary>The template for a config.json model_type ("qwen2", "llama", "gpt2", ...).</summary>
    public static ChatTemplate ForArchitecture(string architecture) => architecture.ToLowerInvariant() switch
    {
        "qwen2" or "qwen2_moe" or "qwen3" => ChatMl,
        "llama" => Llama3,
        "gpt2" => Plain,
        _ => throw new NotSupportedException(
            $"No chat template is known for model_type '{architecture}'. Set the generator's chat template to chatml, llama3 or plain."),
    };

    /// <summary>A template by name (chatml, llama3, plain), for models whose architecture does not say.</summary>
    public static ChatTemplate FromName(string name) => name.ToLowerInvariant() switch
    {
        "chatml" => ChatMl,
        "llama3" or "llama-3" => Llama3,
        "plain" => Plain,
        _ => throw new ArgumentException($"Unknown chat template '{name}'; expected chatml, llama3 or plain.", nameof(name)),
    };

    sealed class ChatMlTemplate : ChatTemplate
    {
        public override string Name => "chatml";
        public override IReadOnlyList<string> StopStrings { get; } = ["<|im_end|>", "<|endoftext|>"];

        // <|im_start|>role\ncontent<|im_end|>\n ... <|im_start|>assistant\n  (Qwen2's tokenizer_config chat_template)
        public override string Render(IEnumerable<ChatMessage> messages)
        {
            var sb = new StringBuilder();
            foreach (var m in messages)
                sb.Append("<|im_start|>").Append(m.Role.Value).Append('\n').Append(m.Text).Append("<|im_end|>\n");
            return sb.Append("<|im_start|>assistant\n").ToString();
        }
    }

    sealed class Llama3Template : ChatTemplate
    {
        public override string Name => "llama3";
        public override IReadOnlyList<string> StopStrings { get; } = ["<|eot_id|>", "<|end_of_text|>"];

        // <|begin_of_text|><|start_header_id|>role<|end_header_id|>\n\ncontent<|eot_id|> ... then the assistant header.
        public override string Render(IEnumerable<ChatMessage> messages)
        {
            var sb = new StringBuilder("<|begin_of_text|>");
            foreach (var m in messages)
                sb.Append("<|start_header_id|>").Append(m.Role.Value).Append("<|end_header_id|>\n\n")
                  .Append(m.Text.Trim()).Append("<|eot_id|>");
            return sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n").ToString();
        }
    }

    sealed class PlainTemplate : ChatTemplate
    {
        public override string Name => "plain";

        // A base model continues text: stop when it starts the next question.
        public override IReadOnlyList<string> StopStrings { get; } = ["<|endoftext|>", "\nQuestion:"];

        // The system text, then user turns as written (PromptBuilder starts them with "Question:") and
        // assistant turns after "Answer:", ending on "Answer:" for the model to continue.
        public override string Render(IEnumerable<ChatMessage> messages)
        {
            var sb = new StringBuilder();
            foreach (var m in messages)
            {
                if (m.Role == ChatRole.Assistant) sb.Append("Answer: ").Append(m.Text.Trim()).Append("\n\n");
                else if (m.Role == ChatRole.User) sb.Append(m.Text.Trim()).Append('\n');
                else sb.Append(m.Text.Trim()).Append("\n\n");
            }
            return sb.Append("Answer:").ToString();
        }
    }
}
