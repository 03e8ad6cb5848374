using System.Security.Cryptography;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rag.Retriever;
using Rag.Storage;

namespace Rag.Ingest;

/// <summary>
/// Ingests one stored document: extract -> chunk -> embed -> save -> mark indexed. Every step is
/// idempotent, so a run interrupted anywhere (crash, lost lease, cancellation) is simply run again:
/// the document's old vectors are deleted before the new ones are upserted under deterministic
/// chunk ids, the lexical index and the chunk rows are replaced whole, and the document is marked
/// Indexed last. Bad content fails the document at once; anything else throws so the queue retries.
/// <para>
/// Concurrent delete: the document row is re-read after saving; if it is gone, everything this run
/// wrote is removed again, so a job never resurrects a deleted document. Concurrent re-upload (same
/// external id, new bytes): the content hash is re-checked after saving and the run starts over on
/// the new bytes, so the last writer always indexes the current content.
/// </para>
/// </summary>
public sealed class IngestPipeline
{
    const int MaxRestarts = 3;

    readonly IRagStore _store;
    readonly ExtractorRegistry _extractors;
    readonly TextChunker _chunker;
    readonly ILexicalIndex _lexical;
    readonly IVectorIndex? _vectors;
    readonly IEmbeddingGenerator<string, Embedding<float>>? _embedder;
    readonly IngestOptions _options;
    readonly DocumentIngestion _documents;
    readonly ILogger _logger;

    /// <param name="vectors">Needed when an embedder is given; without an embedder only BM25 is built.</param>
    /// <param name="embedder">The context encoder; null = no dense index.</param>
    /// <param name="documents">Stores and deletes child documents (an e-mail's attachments); by default one over the same stores.</param>
    public IngestPipeline(
        IRagStore store,
        ExtractorRegistry extractors,
        TextChunker chunker,
        ILexicalIndex lexical,
        IngestOptions options,
        IVectorIndex? vectors = null,
        IEmbeddingGenerator<string, Embedding<float>>? embedder = null,
        ILogger<IngestPipeline>? logger = null,
        DocumentIngestion? documents = null)
    {
        if (embedder is not null && vectors is null)
            throw new InvalidOperationException("An embedding generator is configured but no IVectorIndex is registered to hold its vectors.");
        (_store, _extractors, _chunker, _lexical, _options, _vectors, _embedder) = (store, extractors, chunker, lexical, options, vectors, embedder);
        _logger = logger ?? NullLogger<IngestPipeline>.Instance;
        _documents = documents ?? new DocumentIngestion(store, extractors, lexical, options, vectors);
    }

    public bool HasDenseIndex => _embedder is not null;

    public async Task<IngestOutcome> RunAsync(string tenantId, string documentId, IProgress<IngestProgress>? progress = null, CancellationToken ct = default)
    {
        for (var attempt = 0; ; attempt++)
        {
            var result = await RunOnceAsync(tenantId, documentId, progress, ct);
            if (result is { } outcome)
            {
                IngestTelemetry.Documents.Add(1, new KeyValuePair<string, object?>("rag.ingest.outcome", IngestTelemetry.OutcomeName(outcome)));
                return outcome;
            }
            if (attempt + 1 >= MaxRestarts)
                throw new InvalidOperationException($"Document {documentId} kept changing while it was ingested; will retry.");
            _logger.LogInformation("Document {DocumentId} was re-uploaded during ingestion; starting over on the new content", documentId);
        }
    }

    /// <summary>One pass; null when the content changed underneath and the pass must start over.</summary>
    async Task<IngestOutcome?> RunOnceAsync(string tenantId, string documentId, IProgress<IngestProgress>? progress, CancellationToken ct)
    {
        try
        {
            return await PassAsync(tenantId, documentId, progress, ct);
        }
        catch (KeyNotFoundException) // the store refuses to update a row that is gone: deleted while we worked
        {
            if (await _store.Documents.GetAsync(tenantId, documentId, ct) is not null) throw;
            await RemoveIndexEntriesAsync(tenantId, documentId, ct);
            return IngestOutcome.Deleted;
        }
    }

    async Task<IngestOutcome?> PassAsync(string tenantId, string documentId, IProgress<IngestProgress>? progress, CancellationToken ct)
    {
        var document = await _store.Documents.GetAsync(tenantId, documentId, ct);
        if (document is null)
        {
            // A run that crashed after writing index entries may have left some behind; deleting is idempotent.
            await RemoveIndexEntriesAsync(tenantId, documentId, ct);
            return IngestOutcome.Deleted;
        }
        await _store.Documents.SetStatusAsync(tenantId, documentId, DocumentStatus.Processing, null, ct);

        // Extract (the blob is the truth for content; the row's hash tells us whether it is the current one).
        string hash;
        ExtractedText text;
        using (var span = IngestTelemetry.Source.StartActivity("ingest.extract"))
        {
            byte[] content;
            await using (var blob = await _store.Blobs.OpenAsync(tenantId, documentId, ct))
            {
                if (blob is null)
                {
                    if (await _store.Documents.GetAsync(tenantId, documentId, ct) is null) return IngestOutcome.Deleted;
                    return await FailAsync(document, "The original upload is missing from the blob store; upload the file again.", ct);
                }
                using var buffer = new MemoryStream();
                await blob.CopyToAsync(buffer, ct);
                content = buffer.ToArray();
            }
            hash = Sha256Hex(content);
            if (!string.Equals(hash, document.ContentHash, StringComparison.OrdinalIgnoreCase)) return null;
            try
            {
                var extractor = _extractors.Resolve(document.FileName, document.ContentType, content)
                    ?? throw new ExtractionException($"Unsupported document type (file '{document.FileName}', content type '{document.ContentType}'); supported: {_extractors.SupportedList}.");
                text = await extractor.ExtractAsync(content, ct);
                // Extractors that build their text through TextBuilder stop at the cap as they read; this covers every other.
                if (text.Text.Length > _options.Extraction.MaxChars) throw ExtractionLimits.TooMuchText(_options.Extraction.MaxChars);
            }
            catch (ExtractionException e)
            {
                span.Failed(e);
                return await FailAsync(document, e.Message, ct);
            }
            span?.SetTag("rag.ingest.chars", text.Text.Length);
            progress?.Report(new IngestProgress(documentId, IngestStep.Extract, 1, 1));
        }

        List<TextChunk> chunks;
        using (var span = IngestTelemetry.Source.StartActivity("ingest.chunk"))
        {
            chunks = _chunker.Chunk(text, ct).ToList();
            span?.SetTag("rag.ingest.passages", chunks.Count);
            if (chunks.Count == 0) return await FailAsync(document, "The document has no text to index.", ct);
            progress?.Report(new IngestProgress(documentId, IngestStep.Chunk, chunks.Count, chunks.Count));
        }

        // Embed and save vectors batch by batch (bounded memory); old vectors go first so no stale ordinal survives.
        if (_embedder is not null && _vectors is not null)
        {
            using var span = IngestTelemetry.Source.StartActivity("ingest.embed");
            span?.SetTag("rag.ingest.passages", chunks.Count);
            await _vectors.DeleteDocumentAsync(tenantId, documentId, ct);
            var ready = false;
            for (var offset = 0; offset < chunks.Count; offset += _options.EmbeddingBatchSize)
            {
                var batch = chunks.GetRange(offset, Math.Min(_options.EmbeddingBatchSize, chunks.Count - offset));
                var embeddings = await _embedder.GenerateAsync(batch.Select(c => c.Text), null, ct);
                if (embeddings.Count != batch.Count)
                    throw new InvalidOperationException($"The embedding generator returned {embeddings.Count} vectors for {batch.Count} texts.");
                if (!ready)
                {
                    await _vectors.EnsureReadyAsync(embeddings[0].Vector.Length, ct);
                    ready = true;
                }
                var records = new VectorRecord[batch.Count];
                for (var i = 0; i < batch.Count; i++)
                    records[i] = new VectorRecord(ChunkId.Of(documentId, batch[i].Ordinal), tenantId, documentId, embeddings[i].Vector.ToArray(), document.Tags);
                await _vectors.UpsertAsync(records, ct);
                progress?.Report(new IngestProgress(documentId, IngestStep.Embed, offset + batch.Count, chunks.Count));
            }
        }

        // Save: the lexical index and the chunk rows are each replaced whole.
        ChunkRecord[] rows;
        using (IngestTelemetry.Source.StartActivity("ingest.index"))
        {
            var lexical = chunks.Select(c => new LexicalRecord(ChunkId.Of(documentId, c.Ordinal), c.Text)).ToArray();
            await _lexical.IndexDocumentAsync(tenantId, documentId, document.Tags, lexical, ct);
            rows = chunks.Select(c => new ChunkRecord(documentId, tenantId, c.Ordinal, c.Text, c.Start, c.End, c.HeadingPath, c.Page, text.PageLabel(c.Page))).ToArray();
            await _store.Chunks.ReplaceChunksAsync(tenantId, documentId, rows, ct);
            progress?.Report(new IngestProgress(documentId, IngestStep.Save, rows.Length, rows.Length));
        }

        // Attachments become documents of their own, queued as uploads are (before the re-read below, which undoes them on a delete).
        var children = await _documents.SyncChildrenAsync(document, text.Attachments, ct);

        // Mark indexed, unless the document was deleted or re-uploaded meanwhile.
        var current = await _store.Documents.GetAsync(tenantId, documentId, ct);
        if (current is null) // deleted between our last write and now: undo what we wrote
        {
            await RemoveIndexEntriesAsync(tenantId, documentId, ct);
            return IngestOutcome.Deleted;
        }
        if (!string.Equals(current.ContentHash, hash, StringComparison.OrdinalIgnoreCase)) return null;
        // Status only (and the title the document declares, in place of one made from its file name): the chunk
        // count was set with the chunk rows, and the other fields may belong to a newer upload.
        if (DeclaredTitle(current, text.Title) is { } title)
            await _store.Documents.UpdateAsync(current with { Title = title, Status = DocumentStatus.Indexed, Error = null }, ct);
        else
            await _store.Documents.SetStatusAsync(tenantId, documentId, DocumentStatus.Indexed, null, ct);
        progress?.Report(new IngestProgress(documentId, IngestStep.MarkIndexed, 1, 1));
        IngestTelemetry.Passages.Add(rows.Length);
        _logger.LogInformation("Indexed document {DocumentId} of tenant {TenantId}: {Chunks} chunks, {Children} child documents, dense index {Dense}",
            documentId, tenantId, rows.Length, children.Count, _embedder is not null);
        return IngestOutcome.Indexed;
    }

    /// <summary>Removes a document's vectors and lexical entries (its chunk rows go with its row) and its child documents.</summary>
    async Task RemoveIndexEntriesAsync(string tenantId, string documentId, CancellationToken ct)
    {
        if (_vectors is not null) await _vectors.DeleteDocumentAsync(tenantId, documentId, ct);
        await _lexical.DeleteDocumentAsync(tenantId, documentId, ct);
        await _documents.DeleteChildrenAsync(tenantId, documentId, ct);
    }

    async Task<IngestOutcome> FailAsync(DocumentRecord document, string error, CancellationToken ct)
    {
        _logger.LogWarning("Document {DocumentId} of tenant {TenantId} failed: {Error}", document.Id, document.TenantId, error);
        // Entries (and child documents) from an earlier version of this document (same external id) no longer describe its content.
        await RemoveIndexEntriesAsync(document.TenantId, document.Id, ct);
        await _store.Chunks.ReplaceChunksAsync(document.TenantId, document.Id, [], ct);
        await _store.Documents.SetStatusAsync(document.TenantId, document.Id, DocumentStatus.Failed, error, ct);
        return IngestOutcome.Failed;
    }

    /// <summary>
    /// The extracted title, when the stored one is only the file-name fallback (no title was given at upload):
    /// an HTML page is then called by its &lt;title&gt;, a PDF or Office file by its document properties.
    /// </summary>
    internal static string? DeclaredTitle(DocumentRecord document, string? extracted)
    {
        if (string.IsNullOrWhiteSpace(extracted) || document.FileName is null) return null;
        if (!string.Equals(document.Title, DocumentIngestion.FallbackTitle(document.FileName), StringComparison.Ordinal)) return null;
        var title = extracted.Length <= MaxTitleChars ? extracted : extracted[..MaxTitleChars].TrimEnd() + "…";
        return string.Equals(title, document.Title, StringComparison.Ordinal) ? null : title;
    }

    const int MaxTitleChars = 300;

    internal static string Sha256Hex(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));
}
