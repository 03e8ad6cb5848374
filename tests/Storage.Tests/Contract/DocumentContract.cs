namespace Rag.Storage.Tests;

public abstract class DocumentContract(IStoreBackend backend) : StoreContract(backend)
{
    [SkippableFact]
    public async Task A_document_round_trips_and_is_invisible_to_other_tenants()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var added = await store.Documents.AddAsync(NewDocument(a, "Annual report", externalId: "ext-1") with { ChunkCount = 9 });

        Assert.False(string.IsNullOrEmpty(added.Id));
        Assert.Equal(0, added.ChunkCount); // only ReplaceChunksAsync sets it
        Assert.Equal(Clock.GetUtcNow(), added.CreatedAt);
        var read = await store.Documents.GetAsync(a, added.Id);
        Assert.NotNull(read);
        Assert.Equal(added with { Tags = [] }, read with { Tags = [] });
        Assert.Equal(["alpha", "beta"], read.Tags);
        Assert.Null(await store.Documents.GetAsync(b, added.Id));
    }

    [SkippableFact]
    public async Task Many_documents_are_read_at_once_by_id_within_their_tenant()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var one = await store.Documents.AddAsync(NewDocument(a, "one"));
        var two = await store.Documents.AddAsync(NewDocument(a, "two"));
        var three = await store.Documents.AddAsync(NewDocument(a, "three"));
        var foreign = await store.Documents.AddAsync(NewDocument(b, "of tenant b"));

        var got = await store.Documents.GetManyAsync(a, [two.Id, "missing", one.Id, two.Id, foreign.Id]);
        Assert.Equal(new[] { one.Id, two.Id }.Order(StringComparer.Ordinal), got.Keys.Order(StringComparer.Ordinal)); // ids made in one millisecond are not ordered
        Assert.Equal(("one", "two"), (got[one.Id].Title, got[two.Id].Title));
        Assert.Equal((await store.Documents.GetAsync(a, one.Id))! with { Tags = [] }, got[one.Id] with { Tags = [] });
        Assert.Equal(["alpha", "beta"], got[one.Id].Tags);
        Assert.Equal([foreign.Id], (await store.Documents.GetManyAsync(b, [one.Id, foreign.Id])).Keys);
        Assert.Empty(await store.Documents.GetManyAsync(a, []));

        // More ids than one query takes: the documents at both ends of a long list are still found.
        string[] many = [one.Id, .. Enumerable.Range(0, 1200).Select(i => $"unknown-{i}"), three.Id];
        Assert.Equal([one.Id, three.Id], (await store.Documents.GetManyAsync(a, many)).Keys.Order(StringComparer.Ordinal));
    }

    [SkippableFact]
    public async Task Listing_pages_newest_first_with_a_total_and_filters_titles()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        string[] titles = ["Quarterly Report", "Cooking notes", "annual REPORT", "100% pure", "Travel"];
        var ids = new List<string>();
        foreach (var title in titles)
        {
            ids.Add((await store.Documents.AddAsync(NewDocument(a, title))).Id);
            Clock.Advance(TimeSpan.FromSeconds(1));
        }
        await store.Documents.AddAsync(NewDocument(b, "Report of tenant b"));

        var pages = new[] { await store.Documents.ListAsync(a, 0, 2), await store.Documents.ListAsync(a, 2, 2), await store.Documents.ListAsync(a, 4, 2) };
        Assert.All(pages, p => Assert.Equal(5, p.Total));
        Assert.Equal([2, 2, 1], pages.Select(p => p.Items.Count));
        Assert.Equal(Enumerable.Reverse(ids), pages.SelectMany(p => p.Items).Select(d => d.Id));
        Assert.Equal((2, 2), (pages[1].Offset, pages[1].Limit));

        var reports = await store.Documents.ListAsync(a, 0, 10, "report");
        Assert.Equal(2, reports.Total);
        Assert.Equal(["annual REPORT", "Quarterly Report"], reports.Items.Select(d => d.Title));
        var percent = await store.Documents.ListAsync(a, 0, 10, "0%");
        Assert.Equal(["100% pure"], percent.Items.Select(d => d.Title)); // % is literal, not a wildcard
        Assert.Equal(0, (await store.Documents.ListAsync(a, 0, 10, "_")).Total);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.Documents.ListAsync(a, -1, 10));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.Documents.ListAsync(a, 0, 0));
    }

    [SkippableFact]
    public async Task Documents_are_found_by_content_hash_and_external_id_within_their_tenant()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var doc = await store.Documents.AddAsync(NewDocument(a, externalId: "crm-7", hash: "abc123"));

        Assert.Equal(doc.Id, (await store.Documents.FindByHashAsync(a, "abc123"))?.Id);
        Assert.Equal(doc.Id, (await store.Documents.FindByExternalIdAsync(a, "crm-7"))?.Id);
        Assert.Null(await store.Documents.FindByHashAsync(b, "abc123"));
        Assert.Null(await store.Documents.FindByExternalIdAsync(b, "crm-7"));
        Assert.Null(await store.Documents.FindByHashAsync(a, "other"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.Documents.AddAsync(NewDocument(a, externalId: "crm-7")));
        await store.Documents.AddAsync(NewDocument(b, externalId: "crm-7")); // external ids are per tenant
    }

    [SkippableFact]
    public async Task A_document_and_its_job_are_stored_together_or_not_at_all()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var (doc, job) = await store.Documents.AddWithJobAsync(NewDocument(a, externalId: "crm-8"), new NewJob("ingest", "{\"d\":1}", a, 3));
        Assert.Equal(doc.Id, (await store.Documents.GetAsync(a, doc.Id))?.Id);
        Assert.Equal((JobStatus.Queued, "{\"d\":1}", 3), ((await store.Jobs.GetAsync(job.Id))?.Status, job.Payload, job.MaxAttempts));

        // The document write fails (its external id is taken): no job is left behind for it.
        await Assert.ThrowsAsync<InvalidOperationException>(() => store.Documents.AddWithJobAsync(NewDocument(a, externalId: "crm-8"), new NewJob("ingest", "{}", a)));
        // Updating a document that is gone fails the same way.
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.Documents.UpdateWithJobAsync(NewDocument(a) with { Id = "missing" }, new NewJob("ingest", "{}", a)));
        Assert.Equal(1, (await store.Jobs.CountByStatusAsync())[JobStatus.Queued]);

        var again = await store.Documents.UpdateWithJobAsync(doc with { Title = "Renamed" }, new NewJob("ingest", "{\"d\":2}", a));
        Assert.Equal("Renamed", (await store.Documents.GetAsync(a, doc.Id))?.Title);
        Assert.Equal(JobStatus.Queued, (await store.Jobs.GetAsync(again.Id))?.Status);
        Assert.Equal(2, (await store.Jobs.CountByStatusAsync())[JobStatus.Queued]);
    }

    [SkippableFact]
    public async Task Status_and_error_are_recorded_and_updates_replace_fields()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var doc = await store.Documents.AddAsync(NewDocument(a));

        Clock.Advance(TimeSpan.FromSeconds(5));
        await store.Documents.SetStatusAsync(a, doc.Id, DocumentStatus.Failed, "pdftotext is not installed");
        var failed = await store.Documents.GetAsync(a, doc.Id);
        Assert.Equal((DocumentStatus.Failed, "pdftotext is not installed"), (failed!.Status, failed.Error));
        Assert.Equal(Clock.GetUtcNow(), failed.UpdatedAt);
        Assert.Equal(doc.CreatedAt, failed.CreatedAt);

        await store.Documents.SetStatusAsync(a, doc.Id, DocumentStatus.Indexed);
        Assert.Null((await store.Documents.GetAsync(a, doc.Id))!.Error);

        await store.Documents.UpdateAsync(failed with { Title = "Renamed", Tags = ["x"], SizeBytes = 7, Status = DocumentStatus.Processing, Error = null });
        var updated = await store.Documents.GetAsync(a, doc.Id);
        Assert.Equal(("Renamed", 7L, DocumentStatus.Processing), (updated!.Title, updated.SizeBytes, updated.Status));
        Assert.Equal(["x"], updated.Tags);

        var b = await NewTenantAsync(store);
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.Documents.SetStatusAsync(b, doc.Id, DocumentStatus.Indexed));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.Documents.UpdateAsync(updated with { Id = "missing" }));
    }

    [SkippableFact]
    public async Task Delete_removes_the_document_and_its_chunks_together()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var doc = await store.Documents.AddAsync(NewDocument(a));
        var keep = await store.Documents.AddAsync(NewDocument(a, "keep"));
        await store.Chunks.ReplaceChunksAsync(a, doc.Id, [NewChunk(doc, 0), NewChunk(doc, 1), NewChunk(doc, 2)]);
        await store.Chunks.ReplaceChunksAsync(a, keep.Id, [NewChunk(keep, 0)]);

        Assert.False(await store.Documents.DeleteAsync(b, doc.Id)); // another tenant cannot delete it
        Assert.NotNull(await store.Documents.GetAsync(a, doc.Id));

        Assert.True(await store.Documents.DeleteAsync(a, doc.Id));
        Assert.Null(await store.Documents.GetAsync(a, doc.Id));
        Assert.Empty(await store.Chunks.GetChunksAsync(a, doc.Id));
        Assert.Empty(await store.Chunks.GetChunksByIdAsync(a, [ChunkId.Of(doc.Id, 0)]));
        Assert.Equal(1, await store.Chunks.CountChunksAsync(a));
        Assert.False(await store.Documents.DeleteAsync(a, doc.Id));
    }

    [SkippableFact]
    public async Task A_child_document_names_its_parent_is_listed_under_it_and_is_added_once_by_its_derived_id()
    {
        var store = await OpenAsync();
        var a = await NewTenantAsync(store);
        var b = await NewTenantAsync(store);
        var parent = await store.Documents.AddAsync(NewDocument(a, "Message"));
        Assert.Null(parent.ParentId);
        var childId = "child-" + Guid.NewGuid().ToString("N");
        var child = NewDocument(a, "notes.txt", hash: "same-bytes") with { Id = childId, ParentId = parent.Id };

        Assert.True(await store.Documents.AddIfAbsentAsync(child));
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.False(await store.Documents.AddIfAbsentAsync(child with { Title = "changed" })); // a retried job: nothing changes
        var read = await store.Documents.GetAsync(a, childId);
        Assert.Equal(("notes.txt", parent.Id, 0), (read!.Title, read.ParentId, read.ChunkCount));
        Assert.Equal(parent.Id, (await store.Documents.GetManyAsync(a, [childId]))[childId].ParentId);
        Assert.Equal(parent.Id, (await store.Documents.ListAsync(a, 0, 10)).Items.Single(d => d.Id == childId).ParentId);

        var second = await store.Documents.AddAsync(NewDocument(a, "report.csv") with { ParentId = parent.Id });
        await store.Documents.AddAsync(NewDocument(a, "unrelated"));
        Assert.Equal([childId, second.Id], (await store.Documents.ListChildrenAsync(a, parent.Id)).Select(d => d.Id));
        Assert.Empty(await store.Documents.ListChildrenAsync(b, parent.Id)); // another tenant sees none
        Assert.Empty(await store.Documents.ListChildrenAsync(a, childId));

        // An update never moves a document to another parent; an upload is never a duplicate of an attachment.
        await store.Documents.UpdateAsync(read with { Title = "renamed", ParentId = null });
        Assert.Equal(("renamed", parent.Id), ((await store.Documents.GetAsync(a, childId))!.Title, (await store.Documents.GetAsync(a, childId))!.ParentId));
        Assert.Null(await store.Documents.FindByHashAsync(a, "same-bytes"));
        var upload = await store.Documents.AddAsync(NewDocument(a, "uploaded", hash: "same-bytes"));
        Assert.Equal(upload.Id, (await store.Documents.FindByHashAsync(a, "same-bytes"))!.Id);

        // The children stay listed under a parent whose row is gone, so a delete cut short can finish them.
        Assert.True(await store.Documents.DeleteAsync(a, parent.Id));
        Assert.Equal([childId, second.Id], (await store.Documents.ListChildrenAsync(a, parent.Id)).Select(d => d.Id));
    }
}
