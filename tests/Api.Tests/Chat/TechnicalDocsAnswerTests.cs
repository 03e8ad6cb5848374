using System.Net.Http.Json;
using System.Text.Json;

namespace Rag.Api.Tests.Chat;

/// <summary>
/// Extractive answers over technical documentation: pages of the PostgreSQL manual (Debian's postgresql-doc-15) uploaded
/// as HTML, questions asked with no generator. A command synopsis shares the question's keywords but answers nothing,
/// so the answer must quote the prose sentence that explains the option.
/// </summary>
public sealed class TechnicalDocsAnswerTests
{
    const string Manual = "/usr/share/doc/postgresql-doc-15/html";

    // Each question with the sentences that answer it (any one will do).
    static readonly (string Question, string[] Expected)[] Questions =
    [
        ("What does RESTART IDENTITY do in TRUNCATE?", ["Automatically restart sequences owned by columns of the truncated table(s)"]),
        ("What does CONTINUE IDENTITY do in TRUNCATE?", ["Do not change the values of sequences"]),
        ("Which lock does TRUNCATE acquire on each table?", ["TRUNCATE acquires an ACCESS EXCLUSIVE lock on each table it operates on"]),
        ("What does VACUUM reclaim?", ["VACUUM reclaims storage occupied by dead tuples"]),
        ("What does VACUUM FULL do to the table?", ["VACUUM FULL rewrites the entire contents of the table into a new disk file", "VACUUM FULL will usually shrink the table more than a plain VACUUM would"]),
        ("What does the CASCADE option of TRUNCATE do?", ["Automatically truncate all tables that have foreign-key references to any of the named tables", "The CASCADE option can be used to automatically include all dependent tables"]),
    ];

    /// <summary>Lexical evidence alone, and with the default built-in encoder ranking the sentences too.</summary>
    [SkippableTheory]
    [InlineData("none", 1)]
    [InlineData("builtin:arctic-embed-xs", 1)]
    public async Task Answers_quote_the_explaining_sentence_not_the_synopsis(string encoder, int allowedMisses)
    {
        Skip.If(!Directory.Exists(Manual), $"skipped: {Manual} is absent (apt-get install postgresql-doc-15)");
        if (Rag.Neural.Builtin.BuiltinEncoders.IsBuiltin(encoder))
        {
            try { Rag.Neural.Builtin.BuiltinEncoders.Locate(Rag.Neural.Builtin.BuiltinEncoders.Find(encoder)); }
            catch (Rag.Neural.Weights.ModelLoadException e) { throw new SkipException($"skipped: {e.Message}"); }
        }
        using var factory = new RagApiFactory(new Dictionary<string, string?> { ["Rag:Models:QuestionEncoder"] = encoder });
        var c = await factory.NewTenantAsync("manual");
        foreach (var page in new[] { "sql-truncate.html", "sql-vacuum.html", "sql-createindex.html", "sql-delete.html" })
        {
            var doc = await c.Http.UploadAsync(page, await File.ReadAllBytesAsync(Path.Combine(Manual, page)), "text/html");
            Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(doc.Id)).Status);
        }
        var wrong = new List<string>();
        foreach (var (question, expected) in Questions)
        {
            using var response = await c.Http.PostAsJsonAsync("/v1/chat", new { question });
            var answer = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("answer").GetString()!;
            Console.WriteLine($"{question} -> {answer}");
            if (!expected.Any(e => answer.Contains(e, StringComparison.Ordinal))) wrong.Add($"{question} -> {answer}");
        }
        // Lexical evidence alone misses a definition that shares no word with the question ("CONTINUE IDENTITY" ->
        // "Do not change the values of sequences."): 5 of 6. The encoder does not rescue it either (5 of 6): both quote
        // the standard-compatibility note that names both clauses.
        Assert.True(wrong.Count <= allowedMisses, $"{encoder}: {wrong.Count} of {Questions.Length} answers miss the explaining sentence:\n{string.Join("\n", wrong)}");
    }
}
