-- Engine: the runs that roster_engine_end_runs ends get their callbacks queued by it, in one
-- statement, rather than by runs_callback_on_end, a PL/pgSQL call per run (decision 0005, tenth
-- session). That trigger was the largest single cost left in a batch of run ends: about a sixth
-- of roster_engine_transitions' time on batches of 100, for a workflow without a callback, where
-- it looks one up and finds none.
--
-- The trigger now skips the rows that roster_engine_end ends (the role that function runs as,
-- and nothing else does), and the function does what the trigger did for them: a delivery per
-- run whose workflow has a callback, with the same payload (roster_run_callback_payload, which
-- both now use) and the same job. Every other run end, per-run UPDATEs included, still goes
-- through the trigger. The function also checks that every row it ended was running.
CREATE FUNCTION roster_run_callback_payload(p_status text, p_run uuid, p_workflow uuid,
                                            p_version int, p_output jsonb, p_error jsonb)
  RETURNS jsonb LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT jsonb_build_object(
    'type', 'run.' || p_status,
    'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'data', jsonb_build_object(
      'runId', roster_global_id('Run', p_run),
      'workflowId', roster_global_id('Workflow', p_workflow),
      'workflowVersion', p_version,
      'status', p_status,
      'output', p_output,
      'error', p_error))
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION roster_enqueue_run_callback() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_url text;
  v_id uuid := gen_random_uuid();
BEGIN
  SELECT url INTO v_url FROM workflow_callbacks
   WHERE tenant_id = NEW.tenant_id AND workflow_id = NEW.workflow_id;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  INSERT INTO callback_deliveries (tenant_id, id, run_id, workflow_id, event_type, url, payload, next_attempt_at)
  VALUES (NEW.tenant_id, v_id, NEW.id, NEW.workflow_id, 'run.' || NEW.status, v_url,
    roster_run_callback_payload(NEW.status, NEW.id, NEW.workflow_id, NEW.workflow_version,
                                NEW.output, NEW.error),
    now());
  PERFORM graphile_worker.add_job('roster_callback_deliver',
    json_build_object('t', NEW.tenant_id, 'd', v_id),
    max_attempts => 5, job_key => 'roster:callback:' || v_id::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER runs_callback_on_end ON runs;
--> statement-breakpoint
CREATE TRIGGER runs_callback_on_end AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'dead_lettered')
        AND OLD.status IS DISTINCT FROM NEW.status
        AND current_user <> 'roster_engine_end')
  EXECUTE FUNCTION roster_enqueue_run_callback();
--> statement-breakpoint
-- As 0041, and it queues the callbacks of the runs it ends.
CREATE OR REPLACE FUNCTION roster_engine_end_runs(p_tenant uuid, p_rows tid[], p_outputs jsonb[]) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  v_ended int;
  v_wrong int;
  v_delivered uuid[];
BEGIN
  IF p_tenant IS DISTINCT FROM roster_current_tenant() THEN
    RAISE EXCEPTION 'roster_engine_end_runs: tenant % is not the transaction''s tenant', p_tenant;
  END IF;
  WITH ended AS (
    UPDATE runs r SET status = 'succeeded', updated_at = now(), finished_at = now(),
           output = coalesce(x.output, r.output)
      FROM unnest(p_rows, p_outputs) AS x(row_id, output)
     WHERE r.ctid = ANY (p_rows) AND r.ctid = x.row_id
    RETURNING r.tenant_id, r.id, r.workflow_id, r.workflow_version, r.output, r.error,
              old.status AS was),
  delivered AS (
    INSERT INTO callback_deliveries (tenant_id, id, run_id, workflow_id, event_type, url, payload, next_attempt_at)
    SELECT e.tenant_id, gen_random_uuid(), e.id, e.workflow_id, 'run.succeeded', c.url,
           roster_run_callback_payload('succeeded', e.id, e.workflow_id, e.workflow_version,
                                       e.output, e.error),
           now()
      FROM ended e
      JOIN workflow_callbacks c ON c.tenant_id = e.tenant_id AND c.workflow_id = e.workflow_id
     WHERE e.tenant_id = p_tenant AND e.was = 'running'
    RETURNING id)
  SELECT (SELECT count(*) FROM ended),
         (SELECT count(*) FROM ended WHERE tenant_id <> p_tenant OR was <> 'running'),
         (SELECT coalesce(array_agg(id), '{}') FROM delivered)
    INTO v_ended, v_wrong, v_delivered;
  IF v_wrong > 0 OR v_ended <> cardinality(p_rows) THEN
    RAISE EXCEPTION 'roster_engine_end_runs: % of % rows ended, % of another tenant or not running',
      v_ended, cardinality(p_rows), v_wrong;
  END IF;
  -- graphile-worker's schema is installed after the migrations, so its type is named only here.
  IF cardinality(v_delivered) > 0 THEN
    PERFORM graphile_worker.add_jobs(ARRAY(
      SELECT ROW('roster_callback_deliver', json_build_object('t', p_tenant, 'd', d.id), NULL, NULL,
                 5, 'roster:callback:' || d.id::text, NULL, NULL)::graphile_worker.job_spec
        FROM unnest(v_delivered) AS d(id)));
  END IF;
  RETURN v_ended;
END
$$;
