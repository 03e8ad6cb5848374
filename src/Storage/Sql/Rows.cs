using System.Data.Common;
using System.Text.Json;

namespace Rag.Storage.Sql;

/// <summary>Row to record mapping, shared by every engine. Each SELECT lists the columns in the order of the matching constant.</summary>
internal static class Rows
{
    public const string TenantColumns = "id, name, created_at";
    public const string ApiKeyColumns = "id, tenant_id, name, prefix, is_admin, created_at, revoked_at";
    public const string DocumentColumns = "id, tenant_id, title, file_name, content_type, content_hash, size_bytes, external_id, tags, status, error, chunk_count, created_at, updated_at, parent_id";
    public const string ChunkColumns = "document_id, tenant_id, ordinal, text, start_char, end_char, heading_path, page, page_label";
    public const string ConversationColumns = "id, tenant_id, title, created_at";
    public const string MessageColumns = "conversation_id, ordinal, role, content, citations_json, created_at";
    public const string JobColumns = "id, kind, payload, tenant_id, status, attempts, max_attempts, lease_owner, lease_expires_at, run_after, error, created_at, updated_at";
    public const string EvalRunColumns = "id, tenant_id, name, status, config_json, result_json, progress, error, created_at, updated_at";

    public static Tenant ReadTenant(DbDataReader r) => new(r.GetString(0), r.GetString(1), Time(r, 2));

    public static ApiKeyInfo ReadApiKey(DbDataReader r) =>
        new(r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetBoolean(4), Time(r, 5), TimeOrNull(r, 6));

    public static DocumentRecord ReadDocument(DbDataReader r) => new(
        Id: r.GetString(0), TenantId: r.GetString(1), Title: r.GetString(2), FileName: StringOrNull(r, 3),
        ContentType: r.GetString(4), ContentHash: r.GetString(5), SizeBytes: r.GetInt64(6), ExternalId: StringOrNull(r, 7),
        Tags: JsonSerializer.Deserialize<string[]>(r.GetString(8)) ?? [], Status: Parse<DocumentStatus>(r.GetString(9)),
        Error: StringOrNull(r, 10), ChunkCount: r.GetInt32(11), CreatedAt: Time(r, 12), UpdatedAt: Time(r, 13), ParentId: StringOrNull(r, 14));

    public static ChunkRecord ReadChunk(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), r.GetInt32(4), r.GetInt32(5),
        StringOrNull(r, 6), r.IsDBNull(7) ? null : r.GetInt32(7),
        // Chunks stored before page labels existed are PDF or Word pages.
        StringOrNull(r, 8) ?? (r.IsDBNull(7) ? null : PageLabels.Of(PageKind.Page, r.GetInt32(7))));

    public static Conversation ReadConversation(DbDataReader r) => new(r.GetString(0), r.GetString(1), StringOrNull(r, 2), Time(r, 3));

    public static ChatMessageRecord ReadMessage(DbDataReader r) =>
        new(r.GetString(0), r.GetInt32(1), r.GetString(2), r.GetString(3), StringOrNull(r, 4), Time(r, 5));

    public static Job ReadJob(DbDataReader r) => new(
        Id: r.GetString(0), Kind: r.GetString(1), Payload: r.GetString(2), TenantId: StringOrNull(r, 3),
        Status: Parse<JobStatus>(r.GetString(4)), Attempts: r.GetInt32(5), MaxAttempts: r.GetInt32(6),
        LeaseOwner: StringOrNull(r, 7), LeaseExpiresAt: TimeOrNull(r, 8), RunAfter: Time(r, 9), Error: StringOrNull(r, 10),
        CreatedAt: Time(r, 11), UpdatedAt: Time(r, 12));

    public static EvalRunRecord ReadEvalRun(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetString(3), r.GetString(4), StringOrNull(r, 5),
        r.GetDouble(6), StringOrNull(r, 7), Time(r, 8), Time(r, 9));

    /// <summary>Enum values are stored as lower-case names ("queued"), readable in SQL and stable if members are reordered.</summary>
    public static string Name<T>(T value) where T : struct, Enum => value.ToString().ToLowerInvariant();

    public static string Tags(IReadOnlyList<string>? tags) => JsonSerializer.Serialize(tags ?? []);

    static T Parse<T>(string name) where T : struct, Enum => Enum.Parse<T>(name, ignoreCase: true);

    static string? StringOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : r.GetString(i);

    // SQLite stores unix milliseconds (long); PostgreSQL returns timestamptz.
    static DateTimeOffset Time(DbDataReader r, int i) => r.GetFieldType(i) == typeof(long)
        ? DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(i))
        : r.GetFieldValue<DateTimeOffset>(i);

    static DateTimeOffset? TimeOrNull(DbDataReader r, int i) => r.IsDBNull(i) ? null : Time(r, i);
}
