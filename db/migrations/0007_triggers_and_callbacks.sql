-- Triggers (signed inbound webhooks, cron schedules) and signed run-completion callbacks.
-- Webhook and callback signing secrets (Standard Webhooks `whsec_…`) are kept so the server can
-- compute HMACs; services never select them except to sign or verify, and the API shows each
-- secret once, when it is created.
CREATE TABLE webhook_triggers (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  workflow_id uuid NOT NULL,
  name text NOT NULL,
  secret text NOT NULL,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_triggers_pk PRIMARY KEY (tenant_id, id),
  CONSTRAINT webhook_triggers_tenant_name_key UNIQUE (tenant_id, name),
  CONSTRAINT webhook_triggers_workflow_fk FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
-- One row per accepted `webhook-id` of a trigger: a redelivery returns the same run, starts nothing.
CREATE TABLE webhook_deliveries_seen (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  trigger_id uuid NOT NULL,
  webhook_id text NOT NULL,
  run_id uuid NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_deliveries_seen_pk PRIMARY KEY (tenant_id, trigger_id, webhook_id),
  CONSTRAINT webhook_deliveries_seen_trigger_fk FOREIGN KEY (tenant_id, trigger_id) REFERENCES webhook_triggers(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE schedules (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  workflow_id uuid NOT NULL,
  name text NOT NULL,
  cron text NOT NULL,
  timezone text NOT NULL DEFAULT 'UTC',
  input jsonb NOT NULL DEFAULT '{}'::jsonb,
  enabled boolean NOT NULL DEFAULT true,
  next_fire_at timestamptz,
  last_fired_at timestamptz,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedules_pk PRIMARY KEY (tenant_id, id),
  CONSTRAINT schedules_tenant_name_key UNIQUE (tenant_id, name),
  CONSTRAINT schedules_workflow_fk FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX schedules_due_idx ON schedules (next_fire_at) WHERE enabled;
--> statement-breakpoint
-- One row per (schedule, cron occurrence): the primary key is what makes a tick fire exactly once
-- however many workers run it at the same time.
CREATE TABLE schedule_fires (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  schedule_id uuid NOT NULL,
  tick_at timestamptz NOT NULL,
  run_id uuid,
  fired_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT schedule_fires_pk PRIMARY KEY (tenant_id, schedule_id, tick_at),
  CONSTRAINT schedule_fires_schedule_fk FOREIGN KEY (tenant_id, schedule_id) REFERENCES schedules(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
-- Where a workflow's runs report when they end (the integrator's URL), and the secret they sign with.
CREATE TABLE workflow_callbacks (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  workflow_id uuid NOT NULL,
  url text NOT NULL,
  secret text NOT NULL,
  created_by uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT workflow_callbacks_pk PRIMARY KEY (tenant_id, workflow_id),
  CONSTRAINT workflow_callbacks_workflow_fk FOREIGN KEY (tenant_id, workflow_id) REFERENCES workflows(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
-- The delivery log: one row per event (its id is the `webhook-id`), one attempt row per POST.
CREATE TABLE callback_deliveries (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL,
  workflow_id uuid NOT NULL,
  event_type text NOT NULL,
  url text NOT NULL,
  payload jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts int NOT NULL DEFAULT 0,
  last_status_code int,
  last_error text,
  next_attempt_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  CONSTRAINT callback_deliveries_pk PRIMARY KEY (tenant_id, id),
  CONSTRAINT callback_deliveries_status_check CHECK (status IN ('pending', 'delivered', 'failed')),
  CONSTRAINT callback_deliveries_run_fk FOREIGN KEY (tenant_id, run_id) REFERENCES runs(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX callback_deliveries_run_idx ON callback_deliveries (tenant_id, run_id, created_at);
--> statement-breakpoint
CREATE TABLE callback_attempts (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  delivery_id uuid NOT NULL,
  attempt int NOT NULL,
  started_at timestamptz NOT NULL,
  duration_ms int NOT NULL,
  status_code int,
  error text,
  CONSTRAINT callback_attempts_pk PRIMARY KEY (tenant_id, delivery_id, attempt),
  CONSTRAINT callback_attempts_delivery_fk FOREIGN KEY (tenant_id, delivery_id) REFERENCES callback_deliveries(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('webhook_triggers');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('webhook_deliveries_seen');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('schedules');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('schedule_fires');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('workflow_callbacks');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('callback_deliveries');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('callback_attempts');
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON webhook_triggers TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON webhook_deliveries_seen, schedule_fires, callback_attempts TO roster_app;
--> statement-breakpoint
-- A fire row is claimed first (the primary key decides), then names the run it started.
GRANT UPDATE (run_id) ON schedule_fires TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON schedules, workflow_callbacks TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON callback_deliveries TO roster_app;
--> statement-breakpoint
-- The schedule tick looks across tenants for due schedules (ids only) through a SECURITY DEFINER
-- function owned by roster_engine (NOLOGIN, no BYPASSRLS; docs/decisions/0005), then fires each
-- tenant's schedules under that tenant's RLS context.
GRANT SELECT ON schedules TO roster_engine;
--> statement-breakpoint
CREATE POLICY schedules_engine_select ON schedules FOR SELECT TO roster_engine USING (true);
--> statement-breakpoint
CREATE FUNCTION roster_engine_due_schedules(p_now timestamptz, p_limit int)
  RETURNS TABLE (tenant_id uuid, schedule_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.tenant_id, s.id FROM schedules s
   WHERE s.enabled AND s.next_fire_at <= p_now
   ORDER BY s.next_fire_at LIMIT p_limit
$$;
--> statement-breakpoint
ALTER FUNCTION roster_engine_due_schedules(timestamptz, int) OWNER TO roster_engine;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_engine_due_schedules(timestamptz, int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_due_schedules(timestamptz, int) TO roster_app;
--> statement-breakpoint
-- The API's global id (base64url of `Type:uuid`), so callback payloads name runs as GraphQL does.
CREATE FUNCTION roster_global_id(p_type text, p_key uuid) RETURNS text
  LANGUAGE sql IMMUTABLE SET search_path = public, pg_temp AS $$
  SELECT rtrim(translate(encode(convert_to(p_type || ':' || p_key::text, 'UTF8'), 'base64'), E'+/\n', '-_'), '=')
$$;
--> statement-breakpoint
-- When a run ends (each time it ends: a retried run that ends again reports again), queue a
-- callback to its workflow's URL, in the transaction that ended it. Runs as the caller, under the
-- tenant context that the ending transaction set; costs one primary-key lookup when the workflow
-- has no callback.
CREATE FUNCTION roster_enqueue_run_callback() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_url text;
  v_id uuid := gen_random_uuid();
  v_type text := 'run.' || NEW.status;
BEGIN
  SELECT url INTO v_url FROM workflow_callbacks
   WHERE tenant_id = NEW.tenant_id AND workflow_id = NEW.workflow_id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO callback_deliveries (tenant_id, id, run_id, workflow_id, event_type, url, payload, next_attempt_at)
  VALUES (NEW.tenant_id, v_id, NEW.id, NEW.workflow_id, v_type, v_url,
    jsonb_build_object(
      'type', v_type,
      'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
      'data', jsonb_build_object(
        'runId', roster_global_id('Run', NEW.id),
        'workflowId', roster_global_id('Workflow', NEW.workflow_id),
        'workflowVersion', NEW.workflow_version,
        'status', NEW.status,
        'output', NEW.output,
        'error', NEW.error)),
    now());
  PERFORM graphile_worker.add_job('roster_callback_deliver',
    json_build_object('t', NEW.tenant_id, 'd', v_id),
    max_attempts => 5, job_key => 'roster:callback:' || v_id::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER runs_callback_on_end AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'dead_lettered') AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION roster_enqueue_run_callback();
