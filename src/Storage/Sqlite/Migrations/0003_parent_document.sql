-- The document a document came out of (an e-mail attachment's message); null for uploads and on older rows.
ALTER TABLE documents ADD COLUMN parent_id TEXT;
CREATE INDEX ix_documents_tenant_parent ON documents (tenant_id, parent_id) WHERE parent_id IS NOT NULL;
