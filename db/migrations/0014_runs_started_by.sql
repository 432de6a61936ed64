-- Runs record who started them, and carry their concurrency key.
-- started_by_kind/started_by_id name the initiator: a member (their user id), an API key (the
-- key's id), a schedule, a webhook trigger, an e-mail trigger, a parent run (callWorkflow) or the
-- system. created_by is the person accountable for the run (the member, or the member who made
-- the API key), NULL for trigger- and system-started runs: ownership rules (a builder cancels the
-- runs they started) and four-eyes checks compare it with the acting member. No foreign key to
-- users: runs are the hottest insert path, and an erased person leaves an opaque id behind.
ALTER TABLE runs ADD COLUMN created_by uuid;
--> statement-breakpoint
ALTER TABLE runs ADD COLUMN started_by_kind text NOT NULL DEFAULT 'system'
  CONSTRAINT runs_started_by_kind_check
  CHECK (started_by_kind IN ('member', 'apiKey', 'schedule', 'webhook', 'emailTrigger', 'run', 'system'));
--> statement-breakpoint
ALTER TABLE runs ADD COLUMN started_by_id uuid;
--> statement-breakpoint
-- The workflow's concurrency.key evaluated over the run's input, and its maxRunsPerKey.
ALTER TABLE runs ADD COLUMN concurrency_key text;
--> statement-breakpoint
ALTER TABLE runs ADD COLUMN max_runs_per_key integer;
--> statement-breakpoint
-- As in 0009, plus the initiator and concurrency key of each run.
CREATE OR REPLACE FUNCTION roster_engine_start_runs(p_tenant uuid, p_runs jsonb, p_limit int)
  RETURNS TABLE (input_id uuid, run_id uuid, created boolean, status text)
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_new uuid[];
  v_conflict record;
  v_admitted int := 0;
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  WITH ins AS (
    INSERT INTO runs (tenant_id, id, workflow_id, workflow_version, input, input_hash, idempotency_key, max_runs,
                      deadline_at, created_by, started_by_kind, started_by_id, concurrency_key, max_runs_per_key)
    SELECT p_tenant, r.id, r.workflow_id, r.workflow_version, r.input, r.input_hash, r.idempotency_key, r.max_runs,
           now() + r.deadline_ms * interval '1 millisecond', r.created_by,
           coalesce(r.started_by_kind, 'system'), r.started_by_id, r.concurrency_key, r.max_runs_per_key
      FROM jsonb_to_recordset(p_runs) AS r(id uuid, workflow_id uuid, workflow_version int, input jsonb,
           input_hash text, idempotency_key text, max_runs int, deadline_ms bigint, created_by uuid,
           started_by_kind text, started_by_id uuid, concurrency_key text, max_runs_per_key int)
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING id
  )
  SELECT coalesce(array_agg(id), '{}') INTO v_new FROM ins;
  SELECT r.idempotency_key, e.id INTO v_conflict
    FROM jsonb_to_recordset(p_runs) AS r(id uuid, workflow_id uuid, input_hash text, idempotency_key text)
    JOIN runs e ON e.tenant_id = p_tenant AND e.idempotency_key = r.idempotency_key
   WHERE r.idempotency_key IS NOT NULL AND e.id <> r.id
     AND (e.input_hash <> r.input_hash OR e.workflow_id <> r.workflow_id)
   LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'RS409', MESSAGE = v_conflict.idempotency_key,
      DETAIL = v_conflict.id::text;
  END IF;
  IF cardinality(v_new) > 0 THEN
    INSERT INTO audit_events (tenant_id, run_id, kind, data)
    SELECT p_tenant, id, 'run.created', '{}'::jsonb FROM unnest(v_new) AS id;
    v_admitted := roster_engine_admit(p_tenant, p_limit - (SELECT count(*)::int FROM (
      SELECT 1 FROM runs WHERE tenant_id = p_tenant AND runs.status = 'running' LIMIT p_limit) x));
    IF v_admitted > 0 THEN
      PERFORM pg_notify('jobs:insert', json_build_object('count', v_admitted)::text);
    END IF;
  END IF;
  RETURN QUERY
    SELECT r.id, r.id, true, e.status
      FROM jsonb_to_recordset(p_runs) AS r(id uuid) JOIN runs e ON e.tenant_id = p_tenant AND e.id = r.id
    UNION ALL
    SELECT r.id, e.id, false, e.status
      FROM jsonb_to_recordset(p_runs) AS r(id uuid, idempotency_key text)
      JOIN runs e ON e.tenant_id = p_tenant AND e.idempotency_key = r.idempotency_key
     WHERE r.idempotency_key IS NOT NULL AND e.id <> r.id;
END
$$;
