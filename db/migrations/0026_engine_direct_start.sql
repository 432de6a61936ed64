-- Engine: a run that can start at once is inserted `running`, and startRun finds its rows by key.
--
-- 1. Before, every run was inserted `queued` and admitted in the same transaction. That left an
--    entry in runs_queued_idx pointing at a dead row, and admission scans that index from its
--    oldest entry. Until VACUUM removed them, every admission walked all of them: on a run's end
--    as well as on a start. After 13,000 runs it cost about 2 ms a call. Now, when the tenant has
--    no queued run, has room for the whole batch and no run has a per-workflow or per-key limit,
--    the runs go in `running` with their first step's job. Only a run that really waits enters
--    the queue index. Otherwise admission is as in 0023.
-- 2. The rows returned and the idempotency conflict check joined the input to runs. With the
--    planner's guess of 100 input rows, that became a hash join over every run of the tenant:
--    a few ms per startRun after 10,000 runs, growing with the tenant's history. They now look
--    the runs up by id and by key (`= ANY`), which is an index probe per input.
CREATE OR REPLACE FUNCTION roster_engine_start_runs(p_tenant uuid, p_runs jsonb, p_limit int)
  RETURNS TABLE (input_id uuid, run_id uuid, created boolean, status text)
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
#variable_conflict use_column
DECLARE
  v_new uuid[];
  v_keys text[];
  v_conflict record;
  v_admitted int := 0;
  v_running int;
  v_direct boolean;
  v_priority int;
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
    ON CONFLICT (tenant_id, idempotency_key) DO NOTHING
    RETURNING id
  )
  SELECT coalesce(array_agg(id), '{}') INTO v_new FROM ins;
  IF v_keys IS NOT NULL THEN
    SELECT r.idempotency_key, e.id INTO v_conflict
      FROM runs e
      JOIN jsonb_to_recordset(p_runs) AS r(id uuid, workflow_id uuid, input_hash text, idempotency_key text)
        ON r.idempotency_key = e.idempotency_key
     WHERE e.tenant_id = p_tenant AND e.idempotency_key = ANY(v_keys) AND e.id <> r.id
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
      PERFORM roster_engine_enqueue(jsonb_agg(jsonb_build_object('identifier', 'roster_step',
                'priority', v_priority,
                'payload', jsonb_build_object('t', p_tenant, 'r', e.id, 'w', e.workflow_id,
                  'v', e.workflow_version, 'a', 1, 'g', e.generation, 'p', v_priority))))
         FROM runs e WHERE e.tenant_id = p_tenant AND e.id = ANY(v_new);
      v_admitted := cardinality(v_new);
    ELSE
      v_admitted := roster_engine_admit(p_tenant, p_limit - v_running);
    END IF;
    IF v_admitted > 0 THEN
      PERFORM pg_notify('jobs:insert', json_build_object('count', v_admitted)::text);
    END IF;
  END IF;
  RETURN QUERY
    SELECT e.id, e.id, true, e.status FROM runs e WHERE e.tenant_id = p_tenant AND e.id = ANY(v_new);
  IF v_keys IS NOT NULL THEN
    RETURN QUERY
      SELECT r.id, e.id, false, e.status
        FROM runs e
        JOIN jsonb_to_recordset(p_runs) AS r(id uuid, idempotency_key text)
          ON r.idempotency_key = e.idempotency_key
       WHERE e.tenant_id = p_tenant AND e.idempotency_key = ANY(v_keys) AND e.id <> r.id;
  END IF;
END
$$;
