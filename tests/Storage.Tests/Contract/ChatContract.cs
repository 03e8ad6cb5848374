namespace Rag.Storage.Tests;

public abstract class ChatContract(IStoreBackend backend) : StoreContract(backend)
{
    [SkippableFact]
    public async Task Messages_append_in_order_within_their_tenants_conversation()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var conversation = await store.Chats.CreateConversationAsync(a, "Onboarding");
        Assert.Equal(conversation, await store.Chats.GetConversationAsync(a, conversation.Id));

        await store.Chats.AppendMessageAsync(a, conversation.Id, "user", "What is RAG?");
        Clock.Advance(TimeSpan.FromSeconds(2));
        await store.Chats.AppendMessageAsync(a, conversation.Id, "assistant", "Retrieval, then generation [1].", """[{"n":1,"chunk":"d:0"}]""");
        await store.Chats.AppendMessageAsync(a, conversation.Id, "user", "Thanks");

        var messages = await store.Chats.GetMessagesAsync(a, conversation.Id);
        Assert.Equal([0, 1, 2], messages.Select(m => m.Ordinal));
        Assert.Equal(["user", "assistant", "user"], messages.Select(m => m.Role));
        Assert.Equal("""[{"n":1,"chunk":"d:0"}]""", messages[1].CitationsJson);
        Assert.Null(messages[0].CitationsJson);
        Assert.Equal(Clock.GetUtcNow(), messages[1].CreatedAt);

        Assert.Null(await store.Chats.GetConversationAsync(b, conversation.Id));
        Assert.Empty(await store.Chats.GetMessagesAsync(b, conversation.Id));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.Chats.AppendMessageAsync(b, conversation.Id, "user", "let me in"));
        Assert.Equal(3, (await store.Chats.GetMessagesAsync(a, conversation.Id)).Count);
    }

    [SkippableFact]
    public async Task Conversations_list_newest_first_up_to_the_limit()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var made = new List<Conversation>();
        for (var i = 0; i < 4; i++)
        {
            made.Add(await store.Chats.CreateConversationAsync(a, i == 0 ? null : $"chat {i}"));
            Clock.Advance(TimeSpan.FromSeconds(1));
        }
        await store.Chats.CreateConversationAsync(b, "b's");

        Assert.Equal([made[3], made[2], made[1]], await store.Chats.ListConversationsAsync(a, limit: 3));
        Assert.Equal(4, (await store.Chats.ListConversationsAsync(a)).Count);
        Assert.Null((await store.Chats.ListConversationsAsync(a))[^1].Title);
    }
}
