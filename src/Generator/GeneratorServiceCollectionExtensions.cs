using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Rag.Generator.Conversation;
using Rag.Generator.Extractive;
using Rag.Generator.Local;
using Rag.Generator.Prompting;
using Rag.Generator.Remote;
using Rag.Neural;

namespace Rag.Generator;

public static class GeneratorServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="GeneratorOptions"/>, the <see cref="IChatClient"/> they name (remote, local, or none),
    /// <see cref="GroundedAnswerer"/> and <see cref="QuestionCondenser"/>, all singletons. A local generator uses an <see cref="ITextGeneratorModel"/>
    /// already registered (the host may have loaded it at start to fail fast), else loads
    /// <see cref="GeneratorOptions.LocalModelDirectory"/> itself on first use and disposes it with the container.
    /// With no generator, answers are extractive and no IChatClient is registered.
    /// </summary>
    public static IServiceCollection AddRagGenerator(this IServiceCollection services, GeneratorOptions options)
    {
        options.Validate();
        services.AddSingleton(options);
        if (options.HasRemote)
            services.AddSingleton<IChatClient>(_ => RemoteChatClientFactory.Create(options.RemoteBaseUrl!, options.RemoteApiKey, options.RemoteModel!));
        else if (options.HasLocal)
            services.AddSingleton<IChatClient>(sp => CreateLocal(sp, options));

        var mode = options.HasRemote || options.HasLocal ? AnswerMode.Generated : AnswerMode.Extractive;
        IChatClient? Client(IServiceProvider sp) => mode == AnswerMode.Generated ? sp.GetRequiredService<IChatClient>() : null;
        // Extractive sentences are ranked with the dual encoder too when the host registered one as a SentenceSimilarity.
        services.AddSingleton(sp => new GroundedAnswerer(Client(sp), mode, options, null, sp.GetService<SentenceSimilarity>()));
        services.AddSingleton(sp => new QuestionCondenser(options.CondenseWithModel ? Client(sp) : null, options.MaxHistoryMessages));
        return services;
    }

    static LocalChatClient CreateLocal(IServiceProvider services, GeneratorOptions options)
    {
        var registered = services.GetService<ITextGeneratorModel>();
        var model = registered ?? NeuralModels.LoadGenerator(options.LocalModelDirectory!);
        var template = options.ChatTemplate is { Length: > 0 } name ? ChatTemplate.FromName(name) : null;
        var defaults = new GenerationOptions
        {
            MaxNewTokens = options.MaxNewTokens,
            Temperature = options.Temperature,
            TopP = options.TopP,
            TopK = options.TopK,
            Seed = options.Seed,
        };
        return new LocalChatClient(model, template, defaults, ownsModel: registered is null);
    }
}
