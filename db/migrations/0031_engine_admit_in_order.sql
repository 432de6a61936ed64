-- Engine: an admission locks only the queued runs it looks at, one at a time, so two run ends
-- that admit at once both take runs, in the queue's order.
--
-- Before, roster_engine_admit locked its candidates up front: greatest(p_slots * 4, 16) of the
-- oldest queued runs, FOR UPDATE SKIP LOCKED, for a run's end that had one slot to fill. A second
-- run end of the same tenant, admitting at the same time on another connection, skipped all of
-- them: with 16 runs queued or fewer it admitted nothing, and the tenant ran one run short until
-- the next run end or the sweep; with more, it admitted the 17th run ahead of the 2nd.
--
-- Now the queue is read through a cursor, FOR UPDATE SKIP LOCKED, one FETCH per candidate:
-- Postgres locks a row when the cursor returns it, so an admission holds only the runs it
-- admitted and the ones it passed over for a per-workflow or per-key limit. It still looks at
-- greatest(p_slots * 4, 16) runs at most. A run is admitted through the cursor (WHERE CURRENT OF),
-- without looking it up again by id.
--
-- A per-key limit's advisory lock is tried, not waited for: keys are now met in queue order
-- rather than locked in hash order first, and two admissions meeting two keys in opposite orders
-- would deadlock. A run whose key another admission holds is left queued for that admission's
-- next run end or the sweep; the limit is never exceeded, as the count is taken under the lock.
--
-- started_at is one clock_timestamp() per call, as in 0030. As 0028 says, the SET
-- plan_cache_mode clause must be repeated here.
CREATE OR REPLACE FUNCTION roster_engine_admit(p_tenant uuid, p_slots int) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  queue CURSOR FOR
    SELECT id, workflow_id, workflow_version, generation, max_runs, concurrency_key, max_runs_per_key
      FROM runs
     WHERE tenant_id = p_tenant AND status = 'queued'
     ORDER BY created_at, id
       FOR UPDATE SKIP LOCKED;
  candidate record;
  running jsonb := '{}';
  per_key jsonb := '{}';
  jobs jsonb := '[]';
  admitted int := 0;
  inspected int := 0;
  n int;
  k text;
  v_priority int;
  v_admitted_at timestamptz;
BEGIN
  IF p_slots <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  OPEN queue;
  LOOP
    EXIT WHEN admitted >= p_slots OR inspected >= greatest(p_slots * 4, 16);
    FETCH queue INTO candidate;
    EXIT WHEN NOT FOUND;
    inspected := inspected + 1;
    IF candidate.max_runs IS NOT NULL THEN
      n := coalesce((running->>candidate.workflow_id::text)::int, (
        SELECT count(*) FROM runs
         WHERE tenant_id = p_tenant AND workflow_id = candidate.workflow_id AND status = 'running'));
      running := running || jsonb_build_object(candidate.workflow_id::text, n);
      CONTINUE WHEN n >= candidate.max_runs;
    END IF;
    IF candidate.max_runs_per_key IS NOT NULL THEN
      k := candidate.workflow_id::text || '/' || candidate.concurrency_key;
      -- Held to commit. The count below is a new statement, so it sees the runs that an
      -- admission which held this key before has committed.
      CONTINUE WHEN NOT pg_try_advisory_xact_lock(hashtextextended(p_tenant::text || '/' || k, 7));
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
    IF v_priority IS NULL THEN
      -- Counted only when admitting (a run's end usually admits nothing), before the first
      -- admission, and capped: beyond a few hundred running runs the order between tenants is
      -- already decided.
      SELECT count(*) INTO v_priority FROM (
        SELECT 1 FROM runs WHERE tenant_id = p_tenant AND status = 'running' LIMIT 1000) r;
      -- One moment for all the runs of this call: ties keep the queue's order by created_at.
      v_admitted_at := clock_timestamp();
    END IF;
    UPDATE runs SET status = 'running', started_at = v_admitted_at, updated_at = now()
     WHERE CURRENT OF queue;
    jobs := jobs || jsonb_build_array(jsonb_build_object('identifier', 'roster_step',
      'priority', v_priority,
      'payload', jsonb_build_object('t', p_tenant, 'r', candidate.id, 'w', candidate.workflow_id,
        'v', candidate.workflow_version, 'a', 1, 'g', candidate.generation, 'p', v_priority)));
    admitted := admitted + 1;
  END LOOP;
  CLOSE queue;
  IF admitted > 0 THEN
    PERFORM roster_engine_enqueue(jobs);
  END IF;
  RETURN admitted;
END
$$;
