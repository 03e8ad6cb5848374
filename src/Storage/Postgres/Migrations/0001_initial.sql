-- Times are timestamptz (UTC); enums are lower-case names; tags are a JSON array (text).
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,   -- SHA-256 hex of the key; the key itself is never stored
    is_admin    BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX ix_api_keys_tenant ON api_keys (tenant_id);

CREATE TABLE documents (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title         TEXT NOT NULL,
    file_name     TEXT,
    content_type  TEXT NOT NULL,
    content_hash  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    external_id   TEXT,
    tags          TEXT NOT NULL,
    status        TEXT NOT NULL,
    error         TEXT,
    chunk_count   INTEGER NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_documents_tenant_created ON documents (tenant_id, created_at);
CREATE INDEX ix_documents_tenant_hash ON documents (tenant_id, content_hash);
CREATE UNIQUE INDEX ux_documents_tenant_external ON documents (tenant_id, external_id) WHERE external_id IS NOT NULL;

CREATE TABLE chunks (
    id            TEXT PRIMARY KEY,     -- ChunkId.Of(document_id, ordinal)
    document_id   TEXT NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    tenant_id     TEXT NOT NULL,
    ordinal       INTEGER NOT NULL,
    text          TEXT NOT NULL,
    start_char    INTEGER NOT NULL,
    end_char      INTEGER NOT NULL,
    heading_path  TEXT,
    page          INTEGER
);
CREATE UNIQUE INDEX ux_chunks_document_ordinal ON chunks (document_id, ordinal);
CREATE INDEX ix_chunks_tenant ON chunks (tenant_id);

CREATE TABLE conversations (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    title          TEXT,
    message_count  INTEGER NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_conversations_tenant_created ON conversations (tenant_id, created_at);

CREATE TABLE chat_messages (
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    ordinal          INTEGER NOT NULL,
    role             TEXT NOT NULL,
    content          TEXT NOT NULL,
    citations_json   TEXT,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (conversation_id, ordinal)
);

CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    payload           TEXT NOT NULL,
    tenant_id         TEXT,
    status            TEXT NOT NULL,
    attempts          INTEGER NOT NULL,
    max_attempts      INTEGER NOT NULL,
    lease_owner       TEXT,
    lease_expires_at  TIMESTAMPTZ,
    run_after         TIMESTAMPTZ NOT NULL,
    error             TEXT,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_jobs_status_run_after ON jobs (status, run_after);

CREATE TABLE eval_runs (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    status       TEXT NOT NULL,
    config_json  TEXT NOT NULL,
    result_json  TEXT,
    progress     DOUBLE PRECISION NOT NULL,
    error        TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX ix_eval_runs_tenant_created ON eval_runs (tenant_id, created_at);
