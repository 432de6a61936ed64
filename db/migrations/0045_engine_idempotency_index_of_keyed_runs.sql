-- Engine: runs_idempotency_key indexes only the runs that have an idempotency key (decision 0005,
-- eleventh session). Most runs have none (schedules, webhooks without an id, bulk loads), and each
-- of them put an entry with a NULL key in this unique index when it was inserted and again each
-- time its row was updated other than in place (every status change): an entry that no lookup
-- reads, as NULL keys never conflict. About 3 µs of Postgres time on each run's end.
--
-- roster_engine_start_runs is the one writer that relies on the index, by its ON CONFLICT target,
-- which now names the index's predicate; the rest of it is 0042's. Lookups by key
-- (`idempotency_key = …`) imply the predicate, and use the index as before.
--
-- Like the indexes of 0032, this one is built in the migration's transaction: writes to runs wait
-- while it reads the table.
CREATE UNIQUE INDEX runs_idempotency_key_set ON runs (tenant_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
--> statement-breakpoint
DROP INDEX runs_idempotency_key;
--> statement-breakpoint
ALTER INDEX runs_idempotency_key_set RENAME TO runs_idempotency_key;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION roster_engine_start_runs(p_tenant uuid, p_runs jsonb, p_limit int)
  RETURNS TABLE (input_id uuid, run_id uuid, created boolean, status text)
  LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
#variable_conflict use_column
DECLARE
  v_new uuid[];
  v_keys text[];
  v_conflict record;
  v_admitted int := 0;
  v_running int;
  v_direct boolean;
  v_priority int;
  v_batched int;
  v_jobs int;
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  IF EXISTS (
    SELECT 1 FROM jsonb_to_recordset(p_runs) AS r(workflow_id uuid, workflow_version int, latest boolean)
      JOIN workflows w ON w.tenant_id = p_tenant AND w.id = r.workflow_id
     WHERE r.latest AND w.latest_version IS DISTINCT FROM r.workflow_version) THEN
    RAISE EXCEPTION USING ERRCODE = 'RS412', MESSAGE = 'a newer workflow version was published';
  END IF;
  SELECT array_agg(r.idempotency_key) FILTER (WHERE r.idempotency_key IS NOT NULL) INTO v_keys
    FROM jsonb_to_recordset(p_runs) AS r(idempotency_key text);
  SELECT count(*)::int INTO v_running FROM (
    SELECT 1 FROM runs WHERE tenant_id = p_tenant AND runs.status = 'running' LIMIT p_limit) x;
  -- Straight to `running` only when nothing is ahead of these runs and nothing else limits them.
  v_direct := v_running + jsonb_array_length(p_runs) <= p_limit
    AND NOT EXISTS (
      SELECT 1 FROM jsonb_to_recordset(p_runs) AS r(max_runs int, max_runs_per_key int)
       WHERE r.max_runs IS NOT NULL OR r.max_runs_per_key IS NOT NULL)
    AND NOT EXISTS (SELECT 1 FROM runs WHERE tenant_id = p_tenant AND runs.status = 'queued');
  -- As roster_engine_admit: a run's jobs are ranked by how many runs its tenant had running.
  v_priority := least(v_running, 1000);
  WITH ins AS (
    INSERT INTO runs (tenant_id, id, workflow_id, workflow_version, input, input_hash, idempotency_key, max_runs,
                      deadline_at, created_by, started_by_kind, started_by_id, concurrency_key, max_runs_per_key,
                      status, started_at)
    SELECT p_tenant, r.id, r.workflow_id, r.workflow_version, r.input, r.input_hash, r.idempotency_key, r.max_runs,
           now() + r.deadline_ms * interval '1 millisecond', r.created_by,
           coalesce(r.started_by_kind, 'system'), r.started_by_id, r.concurrency_key, r.max_runs_per_key,
           CASE WHEN v_direct THEN 'running' ELSE 'queued' END, CASE WHEN v_direct THEN now() END
      FROM jsonb_to_recordset(p_runs) AS r(id uuid, workflow_id uuid, workflow_version int, input jsonb,
           input_hash text, idempotency_key text, max_runs int, deadline_ms bigint, created_by uuid,
           started_by_kind text, started_by_id uuid, concurrency_key text, max_runs_per_key int)
    ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING id
  )
  SELECT coalesce(array_agg(id), '{}') INTO v_new FROM ins;
  IF v_keys IS NOT NULL THEN
    SELECT r.idempotency_key, e.id INTO v_conflict
      FROM jsonb_to_recordset(p_runs) AS r(id uuid, workflow_id uuid, input_hash text, idempotency_key text)
      CROSS JOIN LATERAL (
        SELECT e.id, e.input_hash, e.workflow_id FROM runs e
         WHERE e.tenant_id = p_tenant AND e.idempotency_key = r.idempotency_key LIMIT 1) e
     WHERE r.idempotency_key IS NOT NULL AND e.id <> r.id
       AND (e.input_hash <> r.input_hash OR e.workflow_id <> r.workflow_id)
     LIMIT 1;
    IF FOUND THEN
      RAISE EXCEPTION USING ERRCODE = 'RS409', MESSAGE = v_conflict.idempotency_key,
        DETAIL = v_conflict.id::text;
    END IF;
  END IF;
  IF cardinality(v_new) > 0 THEN
    INSERT INTO audit_events (tenant_id, run_id, kind, data)
    SELECT p_tenant, id, 'run.created', '{}'::jsonb FROM unnest(v_new) AS id;
    IF v_direct THEN
      -- The runs whose first step is pure (`batch`, from the definition) share roster_steps jobs,
      -- up to 50 runs a job, in the inputs' order; the others get a roster_step job each. A lone
      -- such run gets a roster_step job too.
      SELECT count(*) INTO v_batched
        FROM jsonb_to_recordset(p_runs) AS r(id uuid, batch boolean)
       WHERE r.batch AND r.id = ANY (v_new);
      WITH started AS (
        SELECT e.id, e.workflow_id, e.workflow_version, e.generation,
               coalesce(r.batch, false) AND v_batched > 1 AS batched,
               row_number() OVER (PARTITION BY coalesce(r.batch, false) AND v_batched > 1
                                  ORDER BY n.id) - 1 AS seq
          FROM unnest(v_new) AS n(id)
          CROSS JOIN LATERAL (
            SELECT e.id, e.workflow_id, e.workflow_version, e.generation FROM runs e
             WHERE e.tenant_id = p_tenant AND e.id = n.id LIMIT 1) e
          LEFT JOIN jsonb_to_recordset(p_runs) AS r(id uuid, batch boolean) ON r.id = n.id),
      jobs AS (
        SELECT jsonb_build_object('identifier', 'roster_step', 'priority', v_priority,
                 'payload', jsonb_build_object('t', p_tenant, 'r', s.id, 'w', s.workflow_id,
                   'v', s.workflow_version, 'a', 1, 'g', s.generation, 'p', v_priority)) AS job
          FROM started s WHERE NOT s.batched
        UNION ALL
        SELECT jsonb_build_object('identifier', 'roster_steps', 'priority', v_priority,
                 'payload', jsonb_build_object('t', p_tenant, 'p', v_priority,
                   'runs', jsonb_agg(jsonb_build_object('r', s.id, 'w', s.workflow_id,
                     'v', s.workflow_version, 'g', s.generation) ORDER BY s.seq)))
          FROM started s WHERE s.batched GROUP BY s.seq / 50)
      SELECT roster_engine_enqueue(jsonb_agg(job)) INTO v_jobs FROM jobs;
      v_admitted := cardinality(v_new);
    ELSE
      v_admitted := roster_engine_admit(p_tenant, p_limit - v_running);
    END IF;
    IF v_admitted > 0 THEN
      PERFORM pg_notify('jobs:insert', json_build_object('count', coalesce(v_jobs, v_admitted))::text);
    END IF;
  END IF;
  RETURN QUERY
    SELECT n.id, n.id, true, e.status
      FROM unnest(v_new) AS n(id)
      CROSS JOIN LATERAL (
        SELECT e.status FROM runs e WHERE e.tenant_id = p_tenant AND e.id = n.id LIMIT 1) e;
  IF v_keys IS NOT NULL THEN
    RETURN QUERY
      SELECT r.id, e.id, false, e.status
        FROM jsonb_to_recordset(p_runs) AS r(id uuid, idempotency_key text)
        CROSS JOIN LATERAL (
          SELECT e.id, e.status FROM runs e
           WHERE e.tenant_id = p_tenant AND e.idempotency_key = r.idempotency_key LIMIT 1) e
       WHERE r.idempotency_key IS NOT NULL AND e.id <> r.id;
  END IF;
END
$$;
