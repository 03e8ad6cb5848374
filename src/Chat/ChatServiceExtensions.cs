using Microsoft.Extensions.DependencyInjection;

namespace Rag.Chat;

public static class ChatServiceExtensions
{
    /// <summary>Registers ChatService; it needs IRetriever, GroundedAnswerer, QuestionCondenser and IRagStore registered.</summary>
    public static IServiceCollection AddRagChat(this IServiceCollection services) => services.AddSingleton<ChatService>();
}
