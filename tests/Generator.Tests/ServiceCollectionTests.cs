using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rag.Generator.Conversation;
using Rag.Generator.Local;
using Rag.Neural;
using Rag.Testing;

namespace Rag.Generator.Tests;

public class ServiceCollectionTests
{
    [Fact]
    public async Task Without_a_generator_answers_are_extractive_and_no_chat_client_is_registered()
    {
        using var sp = new ServiceCollection().AddRagGenerator(new GeneratorOptions()).BuildServiceProvider();
        Assert.Null(sp.GetService<IChatClient>());
        var answerer = sp.GetRequiredService<GroundedAnswerer>();
        Assert.Equal(AnswerMode.Extractive, answerer.Mode);
        var done = await answerer.AnswerCompleteAsync("When was the Statue of Liberty dedicated?", Passages.Eiffel, []);
        Assert.Equal(AnswerMode.Extractive, done.Mode);
        Assert.Contains("[3]", done.Answer);
        var condensed = await sp.GetRequiredService<QuestionCondenser>().CondenseAsync("When was it built?", [ChatTurn.User("Tell me about the Eiffel Tower")]);
        Assert.Equal("When was it built? Eiffel Tower", condensed);
    }

    [Fact]
    public void A_remote_generator_registers_an_openai_chat_client()
    {
        using var sp = new ServiceCollection()
            .AddRagGenerator(new GeneratorOptions { RemoteBaseUrl = "http://localhost:11434/v1", RemoteModel = "llama3" })
            .BuildServiceProvider();
        var client = sp.GetRequiredService<IChatClient>();
        Assert.Equal("llama3", client.GetService<ChatClientMetadata>()?.DefaultModelId);
        Assert.Equal(AnswerMode.Generated, sp.GetRequiredService<GroundedAnswerer>().Mode);
    }

    [Fact]
    public async Task A_local_generator_uses_a_registered_model_with_its_template_and_leaves_it_undisposed()
    {
        var model = new ScriptedModel("qwen2", "From", " passage", " [2].");
        var services = new ServiceCollection().AddSingleton<ITextGeneratorModel>(model);
        using (var sp = services.AddRagGenerator(new GeneratorOptions { LocalModelDirectory = "/unused", MaxNewTokens = 16 }).BuildServiceProvider())
        {
            var answerer = sp.GetRequiredService<GroundedAnswerer>();
            var done = await answerer.AnswerCompleteAsync("Where is Paris?", Passages.Eiffel, []);
            Assert.Equal("From passage [2].", done.Answer);
            Assert.Equal("paris", Assert.Single(done.Citations).DocumentId);
            Assert.IsType<LocalChatClient>(sp.GetRequiredService<IChatClient>());
            Assert.StartsWith("<|im_start|>system\n", model.Prompts[0]);

            // The condenser asks the same model; its reply names nothing from the conversation, so the heuristic answers.
            var condensed = await sp.GetRequiredService<QuestionCondenser>().CondenseAsync("Is it old?", [ChatTurn.User("Tell me about Paris")]);
            Assert.Equal("Is it old? Paris", condensed);
            Assert.Equal(2, model.Prompts.Count);
        }
        Assert.False(model.Disposed);
    }

    [Fact]
    public void A_missing_local_model_directory_fails_naming_the_folder()
    {
        using var dir = new TempDir();
        var missing = Path.Combine(dir.Path, "no-model");
        using var sp = new ServiceCollection().AddRagGenerator(new GeneratorOptions { LocalModelDirectory = missing }).BuildServiceProvider();
        var e = Assert.ThrowsAny<Exception>(() => sp.GetRequiredService<GroundedAnswerer>());
        Assert.Contains("no-model", e.ToString());
    }

    [Fact]
    public void Contradictory_or_out_of_range_settings_are_refused_up_front()
    {
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRagGenerator(new GeneratorOptions { LocalModelDirectory = "m", RemoteBaseUrl = "http://x/v1", RemoteModel = "m" }));
        Assert.Throws<ArgumentException>(() => new ServiceCollection().AddRagGenerator(new GeneratorOptions { RemoteBaseUrl = "http://x/v1" }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ServiceCollection().AddRagGenerator(new GeneratorOptions { TopP = 0 }));
    }
}
