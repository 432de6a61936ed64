-- Plugin kv: per-installation state behind the `kv` capability (limits are enforced by the
-- plugin host; the CHECKs are the floor). Audit exports: files a compliance officer asked for.
CREATE TABLE plugin_kv (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  installation_id uuid NOT NULL,
  key text NOT NULL CHECK (char_length(key) BETWEEN 1 AND 512),
  value jsonb NOT NULL,
  expires_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, installation_id, key),
  FOREIGN KEY (tenant_id, installation_id) REFERENCES installations (tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('plugin_kv');
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON plugin_kv TO roster_app;
--> statement-breakpoint
-- Uninstalling (status leaves 'active') deletes the installation's state, whoever updates the row.
CREATE FUNCTION roster_plugin_kv_on_uninstall() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  DELETE FROM plugin_kv WHERE tenant_id = NEW.tenant_id AND installation_id = NEW.id;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER installations_uninstall_kv AFTER UPDATE OF status ON installations
  FOR EACH ROW WHEN (OLD.status = 'active' AND NEW.status <> 'active')
  EXECUTE FUNCTION roster_plugin_kv_on_uninstall();
--> statement-breakpoint
CREATE TABLE audit_exports (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  format text NOT NULL CHECK (format IN ('jsonl', 'csv', 'pdf')),
  period_from timestamptz NOT NULL,
  period_to timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
  content bytea,
  byte_size integer,
  event_count integer,
  error text,
  requested_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  CHECK (period_from <= period_to)
);
--> statement-breakpoint
CREATE INDEX audit_exports_recent ON audit_exports (tenant_id, created_at DESC);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('audit_exports');
--> statement-breakpoint
-- Exports are kept as produced: no DELETE for the runtime role (retention removes them).
GRANT SELECT, INSERT, UPDATE ON audit_exports TO roster_app;
