-- An audit export without a named format is the verifiable one (JSONL).
ALTER TABLE audit_exports ALTER COLUMN format SET DEFAULT 'jsonl';
