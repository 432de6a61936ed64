-- Plugin marketplace: the global catalog (publishers, their keys, plugins, immutable versions
-- under review) and the tenant side (installations, encrypted connections, wrapped data keys).
CREATE TABLE publishers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- The name packages are signed with (`signature.publisher`), e.g. "acme".
  name text NOT NULL UNIQUE CHECK (name ~ '^[a-z][a-z0-9-]{0,63}$'),
  -- The tenant whose members publish as this publisher (not tenant_id: the catalog is global).
  owner_tenant_id uuid NOT NULL REFERENCES tenants(id),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE publisher_keys (
  publisher_id uuid NOT NULL REFERENCES publishers(id),
  key_id text NOT NULL,
  algorithm text NOT NULL CHECK (algorithm = 'ed25519'),
  public_key text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  PRIMARY KEY (publisher_id, key_id)
);
--> statement-breakpoint
CREATE TABLE plugins (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  publisher_id uuid NOT NULL REFERENCES publishers(id),
  -- manifest.id, unique across the marketplace.
  plugin_key text NOT NULL UNIQUE,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE plugin_versions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  plugin_id uuid NOT NULL REFERENCES plugins(id),
  version text NOT NULL,
  manifest jsonb NOT NULL,
  -- The whole signed package as published; the host verifies it again before every run.
  package jsonb NOT NULL,
  integrity text NOT NULL,
  key_id text NOT NULL,
  changelog text NOT NULL DEFAULT '',
  review_state text NOT NULL DEFAULT 'pending' CHECK (review_state IN ('pending', 'approved', 'rejected')),
  review_note text,
  reviewed_by text,
  reviewed_at timestamptz,
  published_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (plugin_id, version)
);
--> statement-breakpoint
CREATE INDEX plugin_versions_approved ON plugin_versions (plugin_id, created_at) WHERE review_state = 'approved';
--> statement-breakpoint
CREATE TABLE installations (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  plugin_id uuid NOT NULL REFERENCES plugins(id),
  plugin_version_id uuid NOT NULL REFERENCES plugin_versions(id),
  -- Capability names the tenant admin consented to (each one the manifest requested).
  granted_capabilities jsonb NOT NULL DEFAULT '[]',
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'uninstalled')),
  installed_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
--> statement-breakpoint
-- One active installation of a plugin per tenant.
CREATE UNIQUE INDEX installations_active_plugin ON installations (tenant_id, plugin_id) WHERE status = 'active';
--> statement-breakpoint
CREATE TABLE tenant_data_keys (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  key_version integer NOT NULL CHECK (key_version > 0),
  -- The data key wrapped by the master key `master_key_id` (iv | tag | ciphertext).
  wrapped_key bytea NOT NULL,
  master_key_id text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  rewrapped_at timestamptz,
  PRIMARY KEY (tenant_id, key_version)
);
--> statement-breakpoint
CREATE TABLE connections (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  installation_id uuid NOT NULL,
  name text NOT NULL,
  -- AES-256-GCM under the tenant's data key `key_version`; AAD binds tenant, connection, version.
  ciphertext bytea NOT NULL,
  iv bytea NOT NULL,
  tag bytea NOT NULL,
  key_version integer NOT NULL,
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, installation_id, name),
  FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id)
);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('installations');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('connections');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('tenant_data_keys');
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON installations TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON connections TO roster_app;
--> statement-breakpoint
-- Data keys are never deleted (old connections may still use an old version until re-encrypted).
GRANT SELECT, INSERT, UPDATE ON tenant_data_keys TO roster_app;
--> statement-breakpoint
-- The catalog is global: everyone reads it (listings filter on review_state in the query).
-- Writes are tied to the tenant that owns the publisher.
ALTER TABLE publishers ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE publishers FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY publishers_read ON publishers FOR SELECT USING (true);
--> statement-breakpoint
CREATE POLICY publishers_insert ON publishers FOR INSERT WITH CHECK (owner_tenant_id = roster_current_tenant());
--> statement-breakpoint
ALTER TABLE publisher_keys ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE publisher_keys FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY publisher_keys_read ON publisher_keys FOR SELECT USING (true);
--> statement-breakpoint
CREATE POLICY publisher_keys_insert ON publisher_keys FOR INSERT
  WITH CHECK (EXISTS (SELECT 1 FROM publishers p WHERE p.id = publisher_id AND p.owner_tenant_id = roster_current_tenant()));
--> statement-breakpoint
CREATE POLICY publisher_keys_revoke ON publisher_keys FOR UPDATE
  USING (EXISTS (SELECT 1 FROM publishers p WHERE p.id = publisher_id AND p.owner_tenant_id = roster_current_tenant()));
--> statement-breakpoint
ALTER TABLE plugins ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE plugins FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY plugins_read ON plugins FOR SELECT USING (true);
--> statement-breakpoint
CREATE POLICY plugins_insert ON plugins FOR INSERT
  WITH CHECK (EXISTS (SELECT 1 FROM publishers p WHERE p.id = publisher_id AND p.owner_tenant_id = roster_current_tenant()));
--> statement-breakpoint
CREATE POLICY plugins_update ON plugins FOR UPDATE
  USING (EXISTS (SELECT 1 FROM publishers p WHERE p.id = publisher_id AND p.owner_tenant_id = roster_current_tenant()));
--> statement-breakpoint
ALTER TABLE plugin_versions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE plugin_versions FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY plugin_versions_read ON plugin_versions FOR SELECT USING (true);
--> statement-breakpoint
CREATE POLICY plugin_versions_insert ON plugin_versions FOR INSERT
  WITH CHECK (review_state = 'pending' AND EXISTS (
    SELECT 1 FROM plugins pl JOIN publishers p ON p.id = pl.publisher_id
     WHERE pl.id = plugin_id AND p.owner_tenant_id = roster_current_tenant()));
--> statement-breakpoint
-- Review is by platform admins (a configured list, checked by the API), from any tenant; the
-- column grants below leave only the review fields writable, so a version stays immutable.
CREATE POLICY plugin_versions_review ON plugin_versions FOR UPDATE USING (true) WITH CHECK (true);
--> statement-breakpoint
GRANT SELECT, INSERT ON publishers, publisher_keys, plugins, plugin_versions TO roster_app;
--> statement-breakpoint
GRANT UPDATE (revoked_at) ON publisher_keys TO roster_app;
--> statement-breakpoint
GRANT UPDATE (name, description) ON plugins TO roster_app;
--> statement-breakpoint
GRANT UPDATE (review_state, review_note, reviewed_by, reviewed_at) ON plugin_versions TO roster_app;
--> statement-breakpoint
-- A decision is final: approved or rejected versions never change state again.
CREATE FUNCTION roster_plugin_review_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.review_state <> 'pending' THEN
    RAISE EXCEPTION 'plugin version % was already %', OLD.id, OLD.review_state USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER plugin_versions_review_final BEFORE UPDATE ON plugin_versions
  FOR EACH ROW EXECUTE FUNCTION roster_plugin_review_final();
--> statement-breakpoint
-- Master key rotation re-wraps every tenant's data keys: roster_secrets (NOLOGIN, no BYPASSRLS)
-- owns the one function that lists which tenants have keys; the re-wrap itself runs per tenant
-- under that tenant's RLS context.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roster_secrets') THEN
    CREATE ROLE roster_secrets NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO roster_secrets;
--> statement-breakpoint
GRANT SELECT (tenant_id) ON tenant_data_keys TO roster_secrets;
--> statement-breakpoint
CREATE POLICY tenant_data_keys_secrets_select ON tenant_data_keys FOR SELECT TO roster_secrets USING (true);
--> statement-breakpoint
CREATE FUNCTION roster_secrets_key_tenants() RETURNS TABLE (tenant_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT k.tenant_id FROM tenant_data_keys k ORDER BY 1
$$;
--> statement-breakpoint
ALTER FUNCTION roster_secrets_key_tenants() OWNER TO roster_secrets;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_secrets_key_tenants() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_secrets_key_tenants() TO roster_app;
