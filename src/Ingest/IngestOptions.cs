namespace Rag.Ingest;

/// <summary>Settings of ingestion: limits, chunking, embedding batches and the worker.</summary>
public sealed class IngestOptions
{
    /// <summary>Largest upload accepted (the Api answers 413 above it).</summary>
    public long MaxUploadBytes { get; set; } = 50L * 1024 * 1024;

    public ChunkingOptions Chunking { get; set; } = new();

    /// <summary>What one document may cost to extract: its text, and how far a zip-based file may expand.</summary>
    public ExtractionLimits Extraction { get; set; } = new();

    /// <summary>Chunks per call to the context encoder.</summary>
    public int EmbeddingBatchSize { get; set; } = 32;

    /// <summary>The pdftotext executable (a name on PATH or a full path).</summary>
    public string PdfToTextPath { get; set; } = "pdftotext";

    /// <summary>pdftotext is killed after this long; the document then fails.</summary>
    public TimeSpan PdfTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>OCR of scanned PDF pages and of images (Tesseract).</summary>
    public OcrOptions Ocr { get; set; } = new();

    /// <summary>Attempts the queue makes at an ingest job before it gives up (transient errors only; a corrupt file fails at once).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>Register <see cref="IngestWorker"/> as a hosted service (off when a separate worker process does the ingesting).</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>Jobs one worker runs at once.</summary>
    public int WorkerConcurrency { get; set; } = 2;

    /// <summary>How long a leased job stays ours without renewal; renewed every third of it while working.</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Longest wait for new work when the queue is empty (the queue may wake the worker sooner).</summary>
    public TimeSpan IdleWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>On shutdown (SIGTERM), how long running jobs may take to finish before they are cancelled and released to the queue.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Names this worker in job leases; default host:pid:random.</summary>
    public string? WorkerId { get; set; }

    public void Validate()
    {
        Chunking.Validate();
        Extraction.Validate();
        Ocr.Validate();
        if (MaxUploadBytes <= 0) throw new ArgumentOutOfRangeException(nameof(MaxUploadBytes), "MaxUploadBytes must be positive.");
        if (EmbeddingBatchSize < 1) throw new ArgumentOutOfRangeException(nameof(EmbeddingBatchSize), "EmbeddingBatchSize must be at least 1.");
        if (MaxAttempts < 1) throw new ArgumentOutOfRangeException(nameof(MaxAttempts), "MaxAttempts must be at least 1.");
        if (WorkerConcurrency < 1) throw new ArgumentOutOfRangeException(nameof(WorkerConcurrency), "WorkerConcurrency must be at least 1.");
        if (LeaseDuration < TimeSpan.FromSeconds(1)) throw new ArgumentOutOfRangeException(nameof(LeaseDuration), "LeaseDuration must be at least 1 s.");
        if (IdleWait <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(IdleWait), "IdleWait must be positive.");
        if (ShutdownGrace < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ShutdownGrace), "ShutdownGrace must not be negative.");
        if (PdfTimeout <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(PdfTimeout), "PdfTimeout must be positive.");
    }
}
