using System.Globalization;
using static Rag.Storage.Sql.Rows;

namespace Rag.Storage.Sql;

internal sealed class SqlChatStore(SqlBackend db) : IChatStore
{
    public async Task<Conversation> CreateConversationAsync(string tenantId, string? title, CancellationToken ct = default)
    {
        var conversation = new Conversation(Ids.New(), tenantId, title, db.Now());
        await db.ExecuteAsync("INSERT INTO conversations (id, tenant_id, title, message_count, created_at) VALUES (@id, @tenant, @title, 0, @at)", ct,
            ("@id", conversation.Id), ("@tenant", tenantId), ("@title", title), ("@at", conversation.CreatedAt));
        return conversation;
    }

    public Task<Conversation?> GetConversationAsync(string tenantId, string id, CancellationToken ct = default) =>
        db.QuerySingleAsync($"SELECT {ConversationColumns} FROM conversations WHERE tenant_id = @tenant AND id = @id", ReadConversation, ct,
            ("@tenant", tenantId), ("@id", id));

    public async Task<IReadOnlyList<Conversation>> ListConversationsAsync(string tenantId, int limit = 50, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        return await db.QueryAsync($"SELECT {ConversationColumns} FROM conversations WHERE tenant_id = @tenant ORDER BY created_at DESC, id DESC LIMIT @limit",
            ReadConversation, ct, ("@tenant", tenantId), ("@limit", limit));
    }

    /// <summary>
    /// The ordinal comes from the conversation's message counter, bumped in the same transaction: the UPDATE
    /// locks the conversation row (PostgreSQL) or the database (SQLite), so concurrent appends get distinct ordinals.
    /// </summary>
    public async Task AppendMessageAsync(string tenantId, string conversationId, string role, string content, string? citationsJson = null, CancellationToken ct = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(role);
        ArgumentNullException.ThrowIfNull(content);
        await using var c = await db.OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        object? count;
        await using (var bump = db.Command(c,
            "UPDATE conversations SET message_count = message_count + 1 WHERE tenant_id = @tenant AND id = @id RETURNING message_count", tx,
            ("@tenant", tenantId), ("@id", conversationId)))
            count = await bump.ExecuteScalarAsync(ct);
        if (count is null or DBNull) throw new KeyNotFoundException($"Conversation '{conversationId}' does not exist in tenant '{tenantId}'.");
        await using (var insert = db.Command(c,
            $"INSERT INTO chat_messages ({MessageColumns}) VALUES (@conversation, @ordinal, @role, @content, @citations, @at)", tx,
            ("@conversation", conversationId), ("@ordinal", Convert.ToInt32(count, CultureInfo.InvariantCulture) - 1), ("@role", role),
            ("@content", content), ("@citations", citationsJson), ("@at", db.Now())))
            await insert.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
    }

    public async Task<IReadOnlyList<ChatMessageRecord>> GetMessagesAsync(string tenantId, string conversationId, CancellationToken ct = default) =>
        await db.QueryAsync($"""
            SELECT {string.Join(", ", MessageColumns.Split(", ").Select(c => "m." + c))}
            FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id
            WHERE c.tenant_id = @tenant AND c.id = @id ORDER BY m.ordinal
            """, ReadMessage, ct, ("@tenant", tenantId), ("@id", conversationId));
}
