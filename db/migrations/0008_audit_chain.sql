-- Audit trail (docs/decisions/0007): the engine's audit_events gains who/what/trace columns; a
-- sealer appends each tenant's events to audit_chain (seq, prevHash, hash) in its own order; signed
-- digests of the chain head go to audit_digests. All three are append-only for every role.
--
-- New columns are nullable or defaulted so the engine's INSERTs (tenant_id, run_id, kind, data)
-- keep working. The defaults read transaction-local settings that withTenant sets from the
-- request's audit context, so an engine INSERT made for a GraphQL call names that caller; with no
-- context (worker, sweeps) the actor is system/engine.
ALTER TABLE audit_events
  ADD COLUMN actor_type text NOT NULL DEFAULT coalesce(nullif(current_setting('roster.actor_type', true), ''), 'system'),
  ADD COLUMN actor_id text NOT NULL DEFAULT coalesce(nullif(current_setting('roster.actor_id', true), ''), 'engine'),
  ADD COLUMN subject_type text,
  ADD COLUMN subject_id text,
  ADD COLUMN trace_id text DEFAULT nullif(current_setting('roster.trace_id', true), ''),
  ADD COLUMN request_id text DEFAULT nullif(current_setting('roster.request_id', true), ''),
  ADD COLUMN before jsonb,
  ADD COLUMN after jsonb,
  ADD CONSTRAINT audit_events_actor_type_check CHECK (actor_type IN ('member', 'apiKey', 'system', 'runner'));
--> statement-breakpoint
CREATE TABLE audit_chain (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  seq bigint NOT NULL CHECK (seq >= 1),
  event_id bigint NOT NULL,
  prev_hash text NOT NULL,
  hash text NOT NULL,
  sealed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, seq),
  UNIQUE (tenant_id, event_id),
  FOREIGN KEY (tenant_id, event_id) REFERENCES audit_events (tenant_id, id)
);
--> statement-breakpoint
CREATE TABLE audit_digests (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  -- The digest's number in the tenant's digest chain, from 1.
  seq integer NOT NULL CHECK (seq >= 1),
  head_seq bigint NOT NULL CHECK (head_seq >= 0),
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  signed_at timestamptz NOT NULL,
  -- The signed digest exactly as exported (canonical JSON), and its digestHash().
  record text NOT NULL,
  digest_hash text NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
--> statement-breakpoint
CREATE INDEX audit_digests_head_idx ON audit_digests (tenant_id, head_seq);
--> statement-breakpoint
CREATE INDEX audit_events_created_idx ON audit_events (tenant_id, created_at);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('audit_chain');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('audit_digests');
--> statement-breakpoint
GRANT SELECT, INSERT ON audit_chain, audit_digests TO roster_app;
--> statement-breakpoint
-- Append-only for everyone, the owner included (grants alone do not bind the owner). Only a
-- superuser who disables the trigger can change history, and the hash chain then shows it.
CREATE FUNCTION roster_audit_append_only() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'Audit records are never changed or removed; record a new event instead.';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION roster_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION roster_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE ON audit_chain
  FOR EACH ROW EXECUTE FUNCTION roster_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_chain_no_truncate BEFORE TRUNCATE ON audit_chain
  FOR EACH STATEMENT EXECUTE FUNCTION roster_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_digests_append_only BEFORE UPDATE OR DELETE ON audit_digests
  FOR EACH ROW EXECUTE FUNCTION roster_audit_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_digests_no_truncate BEFORE TRUNCATE ON audit_digests
  FOR EACH STATEMENT EXECUTE FUNCTION roster_audit_append_only();
--> statement-breakpoint
-- The hourly signer visits every tenant: roster_auditor (NOLOGIN, no BYPASSRLS) owns the one
-- SECURITY DEFINER function that lists tenant ids (the pattern of roster_auth and roster_engine).
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roster_auditor') THEN
    CREATE ROLE roster_auditor NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO roster_auditor;
--> statement-breakpoint
GRANT SELECT ON tenants TO roster_auditor;
--> statement-breakpoint
CREATE POLICY tenants_auditor_select ON tenants FOR SELECT TO roster_auditor USING (true);
--> statement-breakpoint
CREATE FUNCTION roster_audit_tenants() RETURNS TABLE (tenant_id uuid, slug text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id, t.slug FROM tenants t ORDER BY t.id
$$;
--> statement-breakpoint
ALTER FUNCTION roster_audit_tenants() OWNER TO roster_auditor;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_audit_tenants() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_audit_tenants() TO roster_app;
