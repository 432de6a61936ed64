-- Data subjects and crypto-shredding (docs/decisions, crypto-shredding): personal values in run
-- data are sealed under a per-subject key; erasing the subject deletes the key row, so the sealed
-- values (and the audit chain that hashes them) stay but can no longer be read.
--
-- data_subjects keeps no e-mail: lookup_hash is an HMAC of the normalised address under a key
-- derived from the tenant's data key. One live subject per address; an erased address that comes
-- back gets a new subject (and key).
CREATE TABLE data_subjects (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  lookup_hash text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  erased_at timestamptz,
  CONSTRAINT data_subjects_pk PRIMARY KEY (tenant_id, id)
);
--> statement-breakpoint
CREATE UNIQUE INDEX data_subjects_live_lookup ON data_subjects (tenant_id, lookup_hash) WHERE erased_at IS NULL;
--> statement-breakpoint
-- The subject's AES-256 key, wrapped under the tenant data key `data_key_version`. Erasure
-- DELETEs the row: nothing else holds the key.
CREATE TABLE data_subject_keys (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  subject_id uuid NOT NULL,
  data_key_version int NOT NULL,
  wrapped_key bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT data_subject_keys_pk PRIMARY KEY (tenant_id, subject_id),
  CONSTRAINT data_subject_keys_subject_fk FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
-- Proof that an erasure happened: who asked, when, and what was destroyed or purged (counts only).
CREATE TABLE erasure_certificates (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  subject_id uuid NOT NULL,
  requested_by text NOT NULL,
  keys_destroyed int NOT NULL,
  purged jsonb NOT NULL DEFAULT '{}',
  erased_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT erasure_certificates_pk PRIMARY KEY (tenant_id, id),
  CONSTRAINT erasure_certificates_subject_fk FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects(tenant_id, id)
);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('data_subjects');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('data_subject_keys');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('erasure_certificates');
--> statement-breakpoint
GRANT SELECT, INSERT ON data_subjects TO roster_app;
--> statement-breakpoint
GRANT UPDATE (erased_at) ON data_subjects TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON data_subject_keys TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON erasure_certificates TO roster_app;
--> statement-breakpoint
-- The retention sweep removes delivery logs past retention (runs and steps keep their rows and
-- lose their payloads, an UPDATE the app role already holds).
GRANT DELETE ON callback_deliveries, callback_attempts, webhook_deliveries_seen TO roster_app;
--> statement-breakpoint
-- Every tenant, for the retention sweep (which then works under each tenant's RLS context). Like
-- roster_auth and roster_auditor, roster_engine may list tenant ids and nothing more.
GRANT SELECT (id) ON tenants TO roster_engine;
--> statement-breakpoint
CREATE POLICY tenants_engine_select ON tenants FOR SELECT TO roster_engine USING (true);
--> statement-breakpoint
CREATE FUNCTION roster_retention_tenants() RETURNS TABLE (tenant_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id FROM tenants t ORDER BY t.id
$$;
--> statement-breakpoint
ALTER FUNCTION roster_retention_tenants() OWNER TO roster_engine;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_retention_tenants() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_retention_tenants() TO roster_app;
