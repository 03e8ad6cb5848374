using Npgsql;
using Rag.Api.Tests.Chat;
using Rag.Api.Tests.Documents;
using Rag.Api.Tests.Security;
using Rag.Hosting;

namespace Rag.Api.Tests.ServerMode;

/// <summary>
/// The same end-to-end tests as embedded mode, with PostgreSQL holding metadata and the job queue
/// (vectors stay in the embedded index here; Qdrant where QDRANT_URL is set runs in Retriever.Tests).
/// </summary>
public sealed class ServerModeEndToEndTests(PostgresServiceFixture fixture) : IClassFixture<PostgresServiceFixture>
{
    [SkippableFact]
    public Task Documents_are_indexed_and_ranked() =>
        Run(() => new DocumentsEndToEndTests(fixture).Txt_md_and_html_are_indexed_and_bm25_ranks_the_right_document_first());

    [SkippableFact]
    public Task Dedupe_and_delete() =>
        Run(() => new DocumentsEndToEndTests(fixture).Same_bytes_twice_is_the_same_document_and_delete_removes_it_from_search());

    [SkippableFact]
    public Task Email_attachments_are_child_documents() =>
        Run(() => new EmailAttachmentTests(fixture).Attachments_are_documents_listed_under_their_message_found_by_search_and_deleted_with_it());

    [SkippableFact]
    public Task Streaming_chat() =>
        Run(() => new ChatEndToEndTests(fixture).Streaming_chat_sends_tokens_then_one_done_event_with_citations());

    [SkippableFact]
    public Task Follow_up_questions() =>
        Run(() => new ChatEndToEndTests(fixture).A_follow_up_question_is_made_standalone_and_the_history_is_kept());

    [SkippableFact]
    public Task Tenant_isolation() =>
        Run(() => new TenantIsolationTests(fixture).Tenant_b_never_sees_tenant_a_documents_or_chunks());

    Task Run(Func<Task> test)
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        return test();
    }
}

/// <summary>A service on a fresh PostgreSQL database (dropped afterwards); skipped without RAG_TEST_POSTGRES.</summary>
public sealed class PostgresServiceFixture : BareServiceFixture
{
    static readonly string? Server = Environment.GetEnvironmentVariable("RAG_TEST_POSTGRES");
    static readonly string Database = "rag_e2e_" + Guid.NewGuid().ToString("N")[..12];

    public PostgresServiceFixture() : base(Settings()) { }

    public string? SkipReason => Server is null ? "RAG_TEST_POSTGRES is not set: server-mode end-to-end tests skipped" : null;

    static Dictionary<string, string?>? Settings()
    {
        if (Server is null) return null;
        using (var admin = new NpgsqlConnection(Server))
        {
            admin.Open();
            using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", admin);
            create.ExecuteNonQuery();
        }
        return new()
        {
            ["Rag:Storage:Provider"] = "postgres",
            ["Rag:Storage:ConnectionString"] = new NpgsqlConnectionStringBuilder(Server) { Database = Database }.ConnectionString,
        };
    }

    public override void Dispose()
    {
        base.Dispose();
        if (Server is null) return;
        NpgsqlConnection.ClearAllPools();
        using var admin = new NpgsqlConnection(Server);
        admin.Open();
        using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)", admin);
        drop.ExecuteNonQuery();
    }
}

/// <summary>Bad server-mode configuration fails at start, in one message that names the cause.</summary>
public sealed class ServerModeConfigurationTests
{
    static Task<Exception> StartFailureAsync(string connectionString) => StartFailureAsync(options =>
    {
        options.Storage.Provider = "postgres";
        options.Storage.ConnectionString = connectionString;
    });

    static async Task<Exception> StartFailureAsync(Action<RagOptions> configure)
    {
        using var data = new Rag.Testing.TempDir();
        var options = new RagOptions { DataDirectory = data.Path };
        configure(options);
        await using var runtime = new RagRuntime(
            Microsoft.Extensions.Options.Options.Create(options), RuntimeRole.Service,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<RagRuntime>.Instance);
        return await Assert.ThrowsAnyAsync<Exception>(() => runtime.InitializeAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_second_process_on_an_embedded_data_folder_fails_at_start_saying_it_is_in_use()
    {
        using var data = new Rag.Testing.TempDir();
        var options = Microsoft.Extensions.Options.Options.Create(new RagOptions { DataDirectory = data.Path });
        var log = Microsoft.Extensions.Logging.Abstractions.NullLogger<RagRuntime>.Instance;
        await using var first = new RagRuntime(options, RuntimeRole.Service, log);
        await first.InitializeAsync(CancellationToken.None);
        await using var second = new RagRuntime(options, RuntimeRole.IngestWorker, log);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => second.InitializeAsync(CancellationToken.None));
        Assert.Contains("in use by another process", error.Message);
        await first.Store.CheckHealthAsync(CancellationToken.None); // the first is untouched
    }

    [Fact]
    public async Task Qdrant_down_fails_at_start_naming_its_address()
    {
        // Nothing listens on port 1: the start-up check fails within its few short attempts, with no encoder configured.
        var error = await StartFailureAsync(options =>
        {
            options.Vectors.Provider = "qdrant";
            options.Vectors.QdrantUrl = "http://127.0.0.1:1";
        });
        Assert.IsType<InvalidOperationException>(error);
        Assert.Contains("http://127.0.0.1:1", error.Message);
        Assert.Contains("not reachable", error.Message);
    }

    [SkippableFact]
    public async Task A_wrong_database_password_fails_at_start_with_one_clear_message()
    {
        var server = Environment.GetEnvironmentVariable("RAG_TEST_POSTGRES");
        Skip.If(server is null, "RAG_TEST_POSTGRES is not set: server-mode configuration tests skipped");
        var error = await StartFailureAsync(new NpgsqlConnectionStringBuilder(server) { Password = "definitely-wrong" }.ConnectionString);
        Assert.Contains("password", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task An_unreachable_database_fails_at_start_naming_the_host()
    {
        var error = await StartFailureAsync("Host=127.0.0.1;Port=1;Username=rag;Password=rag;Database=rag;Timeout=2");
        Assert.Contains("127.0.0.1", error.Message);
    }
}
