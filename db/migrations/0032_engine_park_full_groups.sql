-- Engine: a queued run whose workflow or concurrency key is full is parked out of the admission
-- queue until its group frees a slot, so a long queue of one full group no longer holds back the
-- tenant's other runs.
--
-- Before, admission walked the tenant's queue oldest first and looked at
-- greatest(p_slots * 4, 16) runs at most. When more runs than that of one full group were ahead
-- (a customer's key at its maxRunsPerKey with 40 runs waiting, a workflow at its maxRuns with a
-- backlog), every admission passed over them and stopped there: another key's or another
-- workflow's run behind them stayed queued, with its group free and the tenant's room unused,
-- until the backlog ahead had drained to fewer than that many runs.
--
-- Now admission parks such a run (parked_on = 'workflow' or 'key') and goes on; admission reads
-- only unparked runs (runs_admittable_idx), so a parked backlog costs nothing to pass. When a
-- running run of a limited group stops running (ends, or starts waiting), the trigger below
-- unparks its group's oldest parked run, which the run end's admission then considers in its
-- place in the queue (created_at is unchanged). Runs without limits are never parked, and the
-- trigger's WHEN clause skips them without a call.
--
-- No parked run is forgotten: parking and unparking a group both happen under the group's
-- advisory lock. Admission only tries it (a group whose lock another transaction holds is passed
-- over, not parked); the trigger waits for it, so it runs after an admission that parked one of
-- the group's runs has committed, and sees that run. The count of a group's running runs is taken
-- after its lock, in a statement of its own, so the limit holds. A workflow's maxRuns has its own
-- lock now (it had none, and two admissions at once could both take the last slot).
ALTER TABLE runs ADD COLUMN parked_on text;
--> statement-breakpoint
CREATE INDEX runs_admittable_idx ON runs USING btree (tenant_id, created_at, id)
  WHERE status = 'queued' AND parked_on IS NULL;
--> statement-breakpoint
CREATE INDEX runs_parked_workflow_idx ON runs USING btree (tenant_id, workflow_id, created_at, id)
  WHERE status = 'queued' AND parked_on = 'workflow';
--> statement-breakpoint
CREATE INDEX runs_parked_key_idx ON runs USING btree (tenant_id, workflow_id, concurrency_key, created_at, id)
  WHERE status = 'queued' AND parked_on = 'key';
--> statement-breakpoint
-- The advisory lock of a run's group (p_key NULL: the workflow's maxRuns).
CREATE FUNCTION roster_engine_group_lock(p_tenant uuid, p_workflow uuid, p_key text) RETURNS bigint
  LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE WHEN p_key IS NULL THEN hashtextextended(p_tenant::text || '/' || p_workflow::text, 7)
              ELSE hashtextextended(p_tenant::text || '/' || p_workflow::text || '/' || p_key, 7) END
$$;
--> statement-breakpoint
CREATE FUNCTION roster_engine_unpark_group() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.max_runs IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(roster_engine_group_lock(NEW.tenant_id, NEW.workflow_id, NULL));
    UPDATE runs SET parked_on = NULL
     WHERE tenant_id = NEW.tenant_id AND id = (
       SELECT id FROM runs
        WHERE tenant_id = NEW.tenant_id AND workflow_id = NEW.workflow_id
          AND status = 'queued' AND parked_on = 'workflow'
        ORDER BY created_at, id LIMIT 1);
  END IF;
  IF NEW.max_runs_per_key IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(
      roster_engine_group_lock(NEW.tenant_id, NEW.workflow_id, NEW.concurrency_key));
    UPDATE runs SET parked_on = NULL
     WHERE tenant_id = NEW.tenant_id AND id = (
       SELECT id FROM runs
        WHERE tenant_id = NEW.tenant_id AND workflow_id = NEW.workflow_id
          AND concurrency_key = NEW.concurrency_key AND status = 'queued' AND parked_on = 'key'
        ORDER BY created_at, id LIMIT 1);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER runs_left_running AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (OLD.status = 'running' AND NEW.status IS DISTINCT FROM 'running'
        AND (NEW.max_runs IS NOT NULL OR NEW.max_runs_per_key IS NOT NULL))
  EXECUTE FUNCTION roster_engine_unpark_group();
--> statement-breakpoint
-- As 0031, reading unparked runs only, parking the runs of full groups, and trying a workflow's
-- lock for its maxRuns. Parking is capped per call (the first admission after a backlog formed
-- parks it in steps of 1,000). As 0028 says, the SET plan_cache_mode clause must be repeated.
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
  v_admitted_at timestamptz;
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
    inspected := inspected + 1;
  END LOOP;
  CLOSE queue;
  IF admitted > 0 THEN
    PERFORM roster_engine_enqueue(jobs);
  END IF;
  RETURN admitted;
END
$$;
