using System.Net;
using System.Net.Http.Json;
using System.Text;
using MimeKit;

namespace Rag.Api.Tests.Documents;

/// <summary>An e-mail's attachments as documents of their own, through HTTP: listed under the message, found by search, deleted with it.</summary>
public sealed class EmailAttachmentTests : IClassFixture<BareServiceFixture>
{
    readonly RagApiFactory factory;

    public EmailAttachmentTests(BareServiceFixture fixture) => factory = fixture.Factory;

    sealed record ChildView(string Id, string Title, string Status);
    sealed record MessageView(string Id, string Title, string Status, string? ParentId, List<ChildView>? Attachments);

    static byte[] Message()
    {
        var message = new MimeMessage { Subject = "Quarterly harbour meeting" };
        message.From.Add(new MailboxAddress("Ada Lovelace", "ada@example.com"));
        message.To.Add(new MailboxAddress("Bob Babbage", "bob@example.com"));
        var body = new BodyBuilder { TextBody = "Dear Bob, the minutes and the budget of the meeting are attached." };
        body.Attachments.Add("minutes.txt", Encoding.UTF8.GetBytes("The committee agreed to repaint the red lighthouse before the autumn storms."), new ContentType("text", "plain"));
        body.Attachments.Add("budget.csv", Encoding.UTF8.GetBytes("Item,Cost\nPaint,1200\nScaffolding,3400\n"), new ContentType("text", "csv"));
        body.Attachments.Add("payload.bin", new byte[] { 0, 1, 2, 3, 250, 251 }, new ContentType("application", "x-unknown"));
        message.Body = body.ToMessageBody();
        using var stream = new MemoryStream();
        message.WriteTo(stream);
        return stream.ToArray();
    }

    [Fact]
    public async Task Attachments_are_documents_listed_under_their_message_found_by_search_and_deleted_with_it()
    {
        var c = await factory.NewTenantAsync("mail");
        var other = await factory.NewTenantAsync("mail-other");
        var upload = await c.Http.UploadAsync("meeting.eml", Message(), "message/rfc822");
        Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(upload.Id)).Status);

        var message = (await c.Http.GetFromJsonAsync<MessageView>($"/v1/documents/{upload.Id}", Json.Web))!;
        Assert.Null(message.ParentId);
        Assert.Equal(["minutes.txt", "budget.csv"], message.Attachments!.Select(a => a.Title)); // the .bin is only named
        foreach (var attachment in message.Attachments!)
        {
            Assert.Equal("indexed", (await c.Http.WaitForIngestAsync(attachment.Id)).Status);
            var child = (await c.Http.GetFromJsonAsync<MessageView>($"/v1/documents/{attachment.Id}", Json.Web))!;
            Assert.Equal((upload.Id, attachment.Title), (child.ParentId, child.Title));
            Assert.Empty(child.Attachments!);
        }

        var hit = (await c.Http.SearchAsync("repaint the red lighthouse")).Results[0];
        Assert.Equal((message.Attachments[0].Id, "minutes.txt"), (hit.DocumentId, hit.DocumentTitle));
        var named = (await c.Http.SearchAsync("payload.bin")).Results[0];
        Assert.Equal(upload.Id, named.DocumentId); // the message says what was attached
        Assert.Contains("payload.bin (not read: unsupported type application/x-unknown)", named.Text);

        // Another tenant sees none of it and cannot delete it.
        Assert.Empty((await other.Http.SearchAsync("repaint the red lighthouse")).Results);
        using (var foreign = await other.Http.GetAsync($"/v1/documents/{message.Attachments[0].Id}"))
            Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using (var foreignDelete = await other.Http.DeleteAsync($"/v1/documents/{upload.Id}"))
            Assert.Equal(HttpStatusCode.NotFound, foreignDelete.StatusCode);

        using (var delete = await c.Http.DeleteAsync($"/v1/documents/{upload.Id}"))
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        foreach (var attachment in message.Attachments)
        {
            using var gone = await c.Http.GetAsync($"/v1/documents/{attachment.Id}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }
        Assert.Empty((await c.Http.SearchAsync("repaint the red lighthouse")).Results);
        Assert.Empty((await c.Http.SearchAsync("scaffolding paint cost")).Results);
        Assert.Equal(0, (await c.Http.GetFromJsonAsync<DocumentPageView>("/v1/documents", Json.Web))!.Total);
    }
}
