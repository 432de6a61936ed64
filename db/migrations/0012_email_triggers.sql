-- Inbound e-mail triggers: mail to <local_part>@<ROSTER_INBOUND_EMAIL_DOMAIN> starts a run of the
-- bound workflow. The local part is unique across tenants because the SMTP listener receives mail
-- before it knows the tenant; it resolves the address through a SECURITY DEFINER function owned by
-- roster_engine (NOLOGIN, no BYPASSRLS; docs/decisions/0006), then starts the run under RLS.
CREATE TABLE email_triggers (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  workflow_id uuid NOT NULL,
  local_part text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT email_triggers_pk PRIMARY KEY (tenant_id, id),
  CONSTRAINT email_triggers_local_part_key UNIQUE (local_part),
  CONSTRAINT email_triggers_local_part_check CHECK (local_part ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
  CONSTRAINT email_triggers_workflow_fk FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('email_triggers');
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON email_triggers TO roster_app;
--> statement-breakpoint
GRANT UPDATE (enabled) ON email_triggers TO roster_app;
--> statement-breakpoint
GRANT SELECT ON email_triggers TO roster_engine;
--> statement-breakpoint
CREATE POLICY email_triggers_engine_select ON email_triggers FOR SELECT TO roster_engine USING (true);
--> statement-breakpoint
-- The enabled trigger an address's local part names (lower case), across tenants: ids only.
CREATE FUNCTION roster_engine_email_trigger(p_local_part text)
  RETURNS TABLE (tenant_id uuid, trigger_id uuid, workflow_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.tenant_id, t.id, t.workflow_id FROM email_triggers t
   WHERE t.local_part = lower(p_local_part) AND t.enabled
$$;
--> statement-breakpoint
ALTER FUNCTION roster_engine_email_trigger(text) OWNER TO roster_engine;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_engine_email_trigger(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_email_trigger(text) TO roster_app;
