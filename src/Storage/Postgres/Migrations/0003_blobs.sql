-- Originals in PostgreSQL (server mode's default), so no process needs a shared folder: one header row per
-- document and its bytes as fixed-size chunk rows, replaced in one transaction.
CREATE TABLE blobs (
    tenant_id    TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    size_bytes   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, document_id)
);

CREATE TABLE blob_chunks (
    tenant_id    TEXT NOT NULL,
    document_id  TEXT NOT NULL,
    ordinal      INTEGER NOT NULL,
    data         BYTEA NOT NULL,
    PRIMARY KEY (tenant_id, document_id, ordinal),
    FOREIGN KEY (tenant_id, document_id) REFERENCES blobs (tenant_id, document_id) ON DELETE CASCADE
);
-- Uploads are mostly compressed already (PDF, DOCX); TOAST compression would cost CPU for little.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
