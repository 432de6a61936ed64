-- Engine: a run admitted from the queue records the moment it was taken, one clock reading per
-- run, not one per admission call.
--
-- 0030 stamped all the runs of one call with one clock_timestamp(), taken at its first admission,
-- and 0031 let two admissions run at once (before, the second took nothing). Two run ends on two
-- lanes can then interleave: one takes the oldest waiting run, the other the next, then the first
-- takes a third. With one reading per call, that third run could show a start before the second's:
-- against the queue's order, as 0030 describes, across the whole length of a call. The reading is
-- now taken per run, right after its row is locked, so an inversion needs the two admitting
-- backends to be preempted between a lock and the next clock reading (microseconds). As 0028
-- says, the SET plan_cache_mode clause must be repeated here. Otherwise as 0032.
CREATE OR REPLACE FUNCTION roster_engine_admit(p_tenant uuid, p_slots int) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  queue CURSOR FOR
    SELECT id, workflow_id, workflow_version, generation, max_runs, concurrency_key, max_runs_per_key
      FROM runs
     WHERE tenant_id = p_tenant AND status = 'queued' AND parked_on IS NULL
     ORDER BY created_at, id
       FOR UPDATE SKIP LOCKED;
  candidate record;
  running jsonb := '{}';
  per_key jsonb := '{}';
  jobs jsonb := '[]';
  admitted int := 0;
  inspected int := 0;
  parked int := 0;
  n int;
  k text;
  v_priority int;
BEGIN
  IF p_slots <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  OPEN queue;
  LOOP
    EXIT WHEN admitted >= p_slots OR inspected >= greatest(p_slots * 4, 16) OR parked >= 1000;
    FETCH queue INTO candidate;
    EXIT WHEN NOT FOUND;
    IF candidate.max_runs IS NOT NULL THEN
      -- Held to commit; passed over (not parked) while another transaction decides this workflow.
      IF NOT pg_try_advisory_xact_lock(
          roster_engine_group_lock(p_tenant, candidate.workflow_id, NULL)) THEN
        inspected := inspected + 1;
        CONTINUE;
      END IF;
      n := coalesce((running->>candidate.workflow_id::text)::int, (
        SELECT count(*) FROM runs
         WHERE tenant_id = p_tenant AND workflow_id = candidate.workflow_id AND status = 'running'));
      running := running || jsonb_build_object(candidate.workflow_id::text, n);
      IF n >= candidate.max_runs THEN
        UPDATE runs SET parked_on = 'workflow' WHERE CURRENT OF queue;
        parked := parked + 1;
        CONTINUE;
      END IF;
    END IF;
    IF candidate.max_runs_per_key IS NOT NULL THEN
      k := candidate.workflow_id::text || '/' || candidate.concurrency_key;
      IF NOT pg_try_advisory_xact_lock(
          roster_engine_group_lock(p_tenant, candidate.workflow_id, candidate.concurrency_key)) THEN
        inspected := inspected + 1;
        CONTINUE;
      END IF;
      IF NOT per_key ? k THEN
        per_key := per_key || jsonb_build_object(k, (
          SELECT count(*) FROM runs
           WHERE tenant_id = p_tenant AND workflow_id = candidate.workflow_id
             AND concurrency_key = candidate.concurrency_key AND status = 'running'));
      END IF;
      IF (per_key->>k)::int >= candidate.max_runs_per_key THEN
        UPDATE runs SET parked_on = 'key' WHERE CURRENT OF queue;
        parked := parked + 1;
        CONTINUE;
      END IF;
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
    END IF;
    -- The moment this run was taken, just after its row lock: increasing within a call, and
    -- after the start of any older run that another admission locked first.
    UPDATE runs SET status = 'running', started_at = clock_timestamp(), updated_at = now()
     WHERE CURRENT OF queue;
    jobs := jobs || jsonb_build_array(jsonb_build_object('identifier', 'roster_step',
      'priority', v_priority,
      'payload', jsonb_build_object('t', p_tenant, 'r', candidate.id, 'w', candidate.workflow_id,
        'v', candidate.workflow_version, 'a', 1, 'g', candidate.generation, 'p', v_priority)));
    admitted := admitted + 1;
    inspected := inspected + 1;
  END LOOP;
  CLOSE queue;
  IF admitted > 0 THEN
    PERFORM roster_engine_enqueue(jobs);
  END IF;
  RETURN admitted;
END
$$;
