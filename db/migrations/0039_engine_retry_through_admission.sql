-- Engine: retried and replayed runs go through admission, and a run that ends failed closes the
-- steps it still had open.
--
-- retryRun and replayStep set a run `running` and enqueued its step directly, past every limit:
-- a retried run of a customer at its maxRunsPerKey ran beside that customer's running run, and a
-- tenant at maxRunsPerTenant ran one more. They now set the run `queued` with the step to resume
-- from (`resume_step`) and admit, as a run end does; admission gives that step's job (payload
-- `s`) in place of the workflow's start. A retried run keeps its created_at, so it takes its
-- original place in the queue, and its started_at.
--
-- A run failed by its deadline (the sweep, or a step's transition) left its waiting or running
-- steps open in the timeline for good, and the sweep recorded no failed_step, so retryRun began
-- again at the workflow's start. roster_engine_run_ended now closes the open steps of a run that
-- ends failed or dead-lettered: `failed` with DEADLINE_EXCEEDED when the deadline ended it, else
-- `cancelled` (RUN_ENDED: a sibling branch failed the run). The open review tasks of those steps
-- expire (deadline) or are cancelled; before, only the sweep expired them, and a deadline met by a
-- transition left them open. As 0028 says, roster_engine_admit's SET plan_cache_mode clause is repeated here.
ALTER TABLE runs ADD COLUMN resume_step text;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION roster_engine_admit(p_tenant uuid, p_slots int) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  queue CURSOR FOR
    SELECT id, workflow_id, workflow_version, generation, max_runs, concurrency_key, max_runs_per_key,
           resume_step
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
    -- A retried run keeps the start it had.
    UPDATE runs SET status = 'running', started_at = coalesce(started_at, clock_timestamp()),
           resume_step = NULL, updated_at = now()
     WHERE CURRENT OF queue;
    jobs := jobs || jsonb_build_array(jsonb_build_object('identifier', 'roster_step',
      'priority', v_priority,
      'payload', jsonb_build_object('t', p_tenant, 'r', candidate.id, 'w', candidate.workflow_id,
        'v', candidate.workflow_version, 'a', 1, 'g', candidate.generation, 'p', v_priority)
        || CASE WHEN candidate.resume_step IS NULL THEN '{}'::jsonb
                ELSE jsonb_build_object('s', candidate.resume_step) END));
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
--> statement-breakpoint
CREATE OR REPLACE FUNCTION roster_engine_run_ended() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  parent record;
  v_attempt int;
  v_path text;
  payload jsonb;
  v_deadline boolean := NEW.status = 'failed' AND NEW.error->>'code' = 'DEADLINE_EXCEEDED';
BEGIN
  IF NEW.status = 'cancelled' THEN
    UPDATE step_runs SET status = 'cancelled', finished_at = now(), updated_at = now()
     WHERE tenant_id = NEW.tenant_id AND run_id = NEW.id AND status IN ('running', 'waiting', 'retrying', 'pending');
    UPDATE review_tasks SET status = 'cancelled', resolved_at = now()
     WHERE tenant_id = NEW.tenant_id AND run_id = NEW.id AND status = 'open';
  ELSIF NEW.status IN ('failed', 'dead_lettered') THEN
    -- Only the tasks of the steps closed here: the transition that failed the run closes its own
    -- step's task after this trigger (as `resolved` for a rejected approval).
    WITH closed AS (
      UPDATE step_runs SET
             status = CASE WHEN v_deadline THEN 'failed' ELSE 'cancelled' END,
             error = CASE WHEN v_deadline
               THEN jsonb_build_object('code', 'DEADLINE_EXCEEDED', 'message',
                 'The run passed its deadline while this step was ' || status || '.')
               ELSE jsonb_build_object('code', 'RUN_ENDED', 'message',
                 'The run ended (' || NEW.status || ') while this step was ' || status || '.') END,
             finished_at = now(), updated_at = now()
       WHERE tenant_id = NEW.tenant_id AND run_id = NEW.id
         AND status IN ('running', 'waiting', 'retrying', 'pending')
      RETURNING step_id)
    UPDATE review_tasks SET status = CASE WHEN v_deadline THEN 'expired' ELSE 'cancelled' END,
           resolved_at = now()
     WHERE tenant_id = NEW.tenant_id AND run_id = NEW.id AND status = 'open'
       AND step_id IN (SELECT step_id FROM closed);
  END IF;
  UPDATE runs SET status = 'cancelled', finished_at = now(), updated_at = now(),
         error = jsonb_build_object('code', 'PARENT_ENDED', 'message',
           'The parent run ended (' || NEW.status || ') before this child run finished.')
   WHERE tenant_id = NEW.tenant_id AND parent_run_id = NEW.id AND status IN ('queued', 'running', 'waiting');
  IF NEW.parent_run_id IS NOT NULL THEN
    SELECT workflow_id, workflow_version, generation, status INTO parent FROM runs
     WHERE tenant_id = NEW.tenant_id AND id = NEW.parent_run_id;
    SELECT attempt INTO v_attempt FROM step_runs
     WHERE tenant_id = NEW.tenant_id AND run_id = NEW.parent_run_id AND step_id = NEW.parent_step
       AND status = 'waiting';
    IF FOUND AND parent.status IN ('running', 'waiting') THEN
      payload := jsonb_build_object('t', NEW.tenant_id, 'r', NEW.parent_run_id,
        'w', parent.workflow_id, 'v', parent.workflow_version, 'g', parent.generation,
        'a', v_attempt, 's', split_part(NEW.parent_step, '@', 1), 'k', 'child');
      v_path := split_part(NEW.parent_step, '@', 2);
      IF v_path <> '' THEN
        payload := payload || jsonb_build_object('i', to_jsonb(string_to_array(v_path, '.')::int[]));
      END IF;
      PERFORM graphile_worker.add_job('roster_step', payload::json, max_attempts => 25);
    END IF;
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- A failed or dead-lettered run now has work here too; a succeeded one without parent or
-- children still fires nothing.
DROP TRIGGER runs_ended ON runs;
--> statement-breakpoint
CREATE TRIGGER runs_ended AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'dead_lettered')
        AND OLD.status IS DISTINCT FROM NEW.status
        AND (NEW.status IN ('cancelled', 'failed', 'dead_lettered') OR NEW.parent_run_id IS NOT NULL
             OR NEW.child_runs IS NOT FALSE))
  EXECUTE FUNCTION roster_engine_run_ended();
