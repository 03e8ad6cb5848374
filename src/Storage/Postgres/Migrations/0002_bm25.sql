-- BM25 postings for server mode (Rag.Retriever.Postgres.PostgresBm25Index owns these tables): every Api
-- process and ingest worker shares them instead of local index files. Terms are analysed in .NET.
CREATE TABLE bm25_documents (
    tenant_id    TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    tags         TEXT[] NOT NULL,
    PRIMARY KEY (tenant_id, document_id)
);

CREATE TABLE bm25_chunks (
    tenant_id    TEXT NOT NULL,
    chunk_id     TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    length       INTEGER NOT NULL,      -- analysed terms in the chunk, |d|
    PRIMARY KEY (tenant_id, chunk_id)
);
CREATE INDEX ix_bm25_chunks_document ON bm25_chunks (tenant_id, document_id);

-- A posting repeats its chunk's document and length so that scoring reads postings alone (no join per hit).
CREATE TABLE bm25_postings (
    tenant_id    TEXT NOT NULL,
    term         TEXT NOT NULL,
    chunk_id     TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    tf           INTEGER NOT NULL,
    length       INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, term, chunk_id),
    FOREIGN KEY (tenant_id, chunk_id) REFERENCES bm25_chunks (tenant_id, chunk_id) ON DELETE CASCADE
);
CREATE INDEX ix_bm25_postings_chunk ON bm25_postings (tenant_id, chunk_id);

-- N and the summed |d| per tenant, kept in the same transaction as each write, so avgdl needs no scan.
CREATE TABLE bm25_stats (
    tenant_id     TEXT PRIMARY KEY,
    chunks        BIGINT NOT NULL,
    total_length  BIGINT NOT NULL
);
