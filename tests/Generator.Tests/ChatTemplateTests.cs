using Microsoft.Extensions.AI;
using Rag.Generator.Prompting;

namespace Rag.Generator.Tests;

public class ChatTemplateTests
{
    static readonly ChatMessage[] Conversation =
    [
        new(ChatRole.System, "Be brief."),
        new(ChatRole.User, "Question: Hi?"),
        new(ChatRole.Assistant, "Hello."),
        new(ChatRole.User, "Question: Why?"),
    ];

    [Fact]
    public void ChatMl_lays_out_qwen2_turns_and_opens_the_assistant_turn()
    {
        var prompt = ChatTemplate.ForArchitecture("qwen2").Render(Conversation);
        Assert.Equal(
            "<|im_start|>system\nBe brief.<|im_end|>\n" +
            "<|im_start|>user\nQuestion: Hi?<|im_end|>\n" +
            "<|im_start|>assistant\nHello.<|im_end|>\n" +
            "<|im_start|>user\nQuestion: Why?<|im_end|>\n" +
            "<|im_start|>assistant\n",
            prompt);
        Assert.Equal(["<|im_end|>", "<|endoftext|>"], ChatTemplate.ChatMl.StopStrings);
    }

    [Fact]
    public void Llama3_uses_header_ids_and_eot()
    {
        var prompt = ChatTemplate.ForArchitecture("llama").Render(Conversation);
        Assert.Equal(
            "<|begin_of_text|>" +
            "<|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nQuestion: Hi?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\nHello.<|eot_id|>" +
            "<|start_header_id|>user<|end_header_id|>\n\nQuestion: Why?<|eot_id|>" +
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
            prompt);
        Assert.Contains("<|eot_id|>", ChatTemplate.Llama3.StopStrings);
    }

    [Fact]
    public void Plain_is_a_question_answer_document_for_gpt2()
    {
        var prompt = ChatTemplate.ForArchitecture("gpt2").Render(Conversation);
        Assert.Equal("Be brief.\n\nQuestion: Hi?\nAnswer: Hello.\n\nQuestion: Why?\nAnswer:", prompt);
        Assert.Equal(["<|endoftext|>", "\nQuestion:"], ChatTemplate.Plain.StopStrings);
    }

    [Fact]
    public void Unknown_architecture_is_a_clear_error_and_names_override()
    {
        var e = Assert.Throws<NotSupportedException>(() => ChatTemplate.ForArchitecture("mamba"));
        Assert.Contains("mamba", e.Message);
        Assert.Same(ChatTemplate.Llama3, ChatTemplate.FromName("Llama3"));
        Assert.Throws<ArgumentException>(() => ChatTemplate.FromName("alpaca"));
    }
}
