-- Engine: startRun in one round trip, and admission without work when nothing is queued.
-- startRun sends BEGIN, the tenant and audit settings, this function and COMMIT as one simple
-- query when the process already knows the workflow's latest version and definition (rows carry
-- `latest`: the function checks that version is still the latest, RS412 otherwise). Same
-- semantics as 0014 otherwise.
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
  -- A caller that started "the latest version" from its own memory of it (one round trip, no
  -- definition read) learns here when a newer version was published since: RS412, read it again.
  IF EXISTS (
    SELECT 1 FROM jsonb_to_recordset(p_runs) AS r(workflow_id uuid, workflow_version int, latest boolean)
      JOIN workflows w ON w.tenant_id = p_tenant AND w.id = r.workflow_id
     WHERE r.latest AND w.latest_version IS DISTINCT FROM r.workflow_version) THEN
    RAISE EXCEPTION USING ERRCODE = 'RS412', MESSAGE = 'a newer workflow version was published';
  END IF;
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
--> statement-breakpoint
-- As in 0020, returning at once when no run is queued (every run's end calls this).
CREATE OR REPLACE FUNCTION roster_engine_admit(p_tenant uuid, p_slots int) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  picked uuid[] := '{}';
  running jsonb := '{}';
  per_key jsonb := '{}';
  candidate record;
  candidates uuid[];
  lock_key bigint;
  n int;
  k text;
  v_priority int;
BEGIN
  IF p_slots <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  SELECT coalesce(array_agg(c.id), '{}') INTO candidates FROM (
    SELECT id FROM runs
     WHERE tenant_id = p_tenant AND status = 'queued'
     ORDER BY created_at, id
     LIMIT greatest(p_slots * 4, 16)
     FOR UPDATE SKIP LOCKED) c;
  IF cardinality(candidates) = 0 THEN
    RETURN 0;
  END IF;
  -- Held to commit: a concurrent admission of one of these keys waits here, then counts (new
  -- statements below, so fresh snapshots) the runs the other transaction admitted.
  FOR lock_key IN
    SELECT DISTINCT hashtextextended(p_tenant::text || '/' || workflow_id::text || '/' || concurrency_key, 7)
      FROM runs WHERE tenant_id = p_tenant AND id = ANY(candidates) AND max_runs_per_key IS NOT NULL
     ORDER BY 1
  LOOP
    PERFORM pg_advisory_xact_lock(lock_key);
  END LOOP;
  FOR candidate IN
    SELECT id, workflow_id, max_runs, concurrency_key, max_runs_per_key FROM runs
     WHERE tenant_id = p_tenant AND id = ANY(candidates)
     ORDER BY created_at, id
  LOOP
    EXIT WHEN cardinality(picked) >= p_slots;
    IF candidate.max_runs IS NOT NULL THEN
      n := coalesce((running->>candidate.workflow_id::text)::int, (
        SELECT count(*) FROM runs
         WHERE tenant_id = p_tenant AND workflow_id = candidate.workflow_id AND status = 'running'));
      running := running || jsonb_build_object(candidate.workflow_id::text, n);
      CONTINUE WHEN n >= candidate.max_runs;
    END IF;
    IF candidate.max_runs_per_key IS NOT NULL THEN
      k := candidate.workflow_id::text || '/' || candidate.concurrency_key;
      IF NOT per_key ? k THEN
        per_key := per_key || jsonb_build_object(k, (
          SELECT count(*) FROM runs
           WHERE tenant_id = p_tenant AND workflow_id = candidate.workflow_id
             AND concurrency_key = candidate.concurrency_key AND status = 'running'));
      END IF;
      CONTINUE WHEN (per_key->>k)::int >= candidate.max_runs_per_key;
      per_key := per_key || jsonb_build_object(k, (per_key->>k)::int + 1);
    END IF;
    IF candidate.max_runs IS NOT NULL THEN
      running := running || jsonb_build_object(candidate.workflow_id::text,
        (running->>candidate.workflow_id::text)::int + 1);
    END IF;
    picked := picked || candidate.id;
  END LOOP;
  IF cardinality(picked) = 0 THEN
    RETURN 0;
  END IF;
  -- Counted only when admitting (a run's end usually admits nothing), and capped: beyond a few
  -- hundred running runs the order between tenants is already decided.
  SELECT count(*) INTO v_priority FROM (
    SELECT 1 FROM runs WHERE tenant_id = p_tenant AND status = 'running' LIMIT 1000) r;
  WITH admitted AS (
    UPDATE runs SET status = 'running', started_at = now(), updated_at = now()
     WHERE tenant_id = p_tenant AND id = ANY(picked)
    RETURNING id, workflow_id, workflow_version, generation
  )
  SELECT roster_engine_enqueue(jsonb_agg(jsonb_build_object('identifier', 'roster_step',
           'priority', v_priority,
           'payload', jsonb_build_object('t', p_tenant, 'r', id, 'w', workflow_id,
             'v', workflow_version, 'a', 1, 'g', generation, 'p', v_priority))))
    INTO n FROM admitted;
  RETURN cardinality(picked);
END
$$;
