-- Engine: a run taken from the queue records the moment it was admitted as its start, not the
-- start of the transaction that admitted it. Two run ends, committing on two connections, each
-- admit the oldest queued run that the other has not locked; the one whose transaction began
-- first can admit last. With now(), the run it admitted showed the earlier start: the portal's
-- and the API's order of starts contradicted the queue's. Seen as a flaky test
-- (engine-controls.db.test.ts, about 1 run in 10), whose admissions were in queue order.
--
-- As in 0023, with started_at = the clock_timestamp() of the admission. As 0028 says, the SET plan_cache_mode clause
-- must be repeated here.
CREATE OR REPLACE FUNCTION roster_engine_admit(p_tenant uuid, p_slots int) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
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
  v_admitted_at timestamptz;
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
  -- One moment for all the runs of this call: ties keep the queue's order by created_at.
  v_admitted_at := clock_timestamp();
  WITH admitted AS (
    UPDATE runs SET status = 'running', started_at = v_admitted_at, updated_at = now()
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
