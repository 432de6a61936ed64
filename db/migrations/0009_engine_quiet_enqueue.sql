-- Engine: step jobs enqueued without NOTIFY, set-based admission, one-call startRuns.
-- Why: graphile-worker's add_job always runs pg_notify, and Postgres serialises the commits of
-- all notifying transactions (a database-wide lock held through the WAL flush). With one NOTIFY
-- per step transition, 84% of a worker's time went to waiting for that lock (Lock:object in
-- pg_stat_activity). Workers now wake their own local queue after a transition commits; only
-- transactions from outside a worker (startRuns, API-side transitions) notify, once each.
CREATE INDEX runs_queued_idx ON runs USING btree (tenant_id, created_at, id) WHERE status = 'queued';
--> statement-breakpoint
-- Inserts step jobs as graphile-worker's add_jobs does for keyless jobs (same columns and
-- defaults), minus the NOTIFY. Keyed jobs (timers that replace a pending timer) still go through
-- add_job. Returns how many of the jobs may run now.
CREATE FUNCTION roster_engine_enqueue(p_jobs jsonb) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  job jsonb;
  ready int;
BEGIN
  IF p_jobs IS NULL OR jsonb_array_length(p_jobs) = 0 THEN
    RETURN 0;
  END IF;
  FOR job IN SELECT e FROM jsonb_array_elements(p_jobs) e WHERE e->>'jobKey' IS NOT NULL LOOP
    PERFORM graphile_worker.add_job(job->>'identifier', (job->'payload')::json,
      run_at => (job->>'runAt')::timestamptz, max_attempts => 25, job_key => job->>'jobKey',
      priority => (job->>'priority')::int);
  END LOOP;
  INSERT INTO graphile_worker._private_tasks (identifier)
  SELECT DISTINCT e->>'identifier' FROM jsonb_array_elements(p_jobs) e WHERE e->>'jobKey' IS NULL
  ON CONFLICT DO NOTHING;
  INSERT INTO graphile_worker._private_jobs (task_id, payload, run_at, max_attempts, priority)
  SELECT t.id, (e->'payload')::json, coalesce((e->>'runAt')::timestamptz, now()), 25,
         coalesce((e->>'priority')::smallint, 0)
    FROM jsonb_array_elements(p_jobs) e
    JOIN graphile_worker._private_tasks t ON t.identifier = e->>'identifier'
   WHERE e->>'jobKey' IS NULL;
  SELECT count(*) INTO ready FROM jsonb_array_elements(p_jobs) e
   WHERE e->>'runAt' IS NULL OR (e->>'runAt')::timestamptz <= now();
  RETURN ready;
END
$$;
--> statement-breakpoint
-- Admits up to p_slots of the tenant's oldest queued runs (respecting each workflow's max_runs)
-- with one UPDATE and one job insert, and no NOTIFY (callers outside a worker notify).
-- Fair share: a run's jobs get graphile-worker priority = how many runs its tenant had running
-- when it was admitted (lower runs first), so a quiet tenant's run overtakes the jobs of a
-- tenant already running many, instead of queueing behind up to maxRunsPerTenant of them.
CREATE OR REPLACE FUNCTION roster_engine_admit(p_tenant uuid, p_slots int) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  picked uuid[] := '{}';
  running jsonb := '{}';
  candidate record;
  n int;
  v_priority int;
BEGIN
  IF p_slots <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  FOR candidate IN
    SELECT id, workflow_id, max_runs FROM runs
     WHERE tenant_id = p_tenant AND status = 'queued'
     ORDER BY created_at, id
     LIMIT greatest(p_slots * 4, 16)
     FOR UPDATE SKIP LOCKED
  LOOP
    EXIT WHEN cardinality(picked) >= p_slots;
    IF candidate.max_runs IS NOT NULL THEN
      n := coalesce((running->>candidate.workflow_id::text)::int, (
        SELECT count(*) FROM runs
         WHERE tenant_id = p_tenant AND workflow_id = candidate.workflow_id AND status = 'running'));
      CONTINUE WHEN n >= candidate.max_runs;
      running := running || jsonb_build_object(candidate.workflow_id::text, n + 1);
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
--> statement-breakpoint
-- Starts a batch of runs in one statement (the caller's tenant transaction): inserts them (an
-- existing idempotency key keeps its run; a key reused with another input or workflow raises
-- RS409), writes run.created events, admits into free slots (p_limit running at most) and
-- notifies workers once. Returns, per input row id, the run it maps to and its status.
CREATE FUNCTION roster_engine_start_runs(p_tenant uuid, p_runs jsonb, p_limit int)
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
    INSERT INTO runs (tenant_id, id, workflow_id, workflow_version, input, input_hash, idempotency_key, max_runs, deadline_at)
    SELECT p_tenant, r.id, r.workflow_id, r.workflow_version, r.input, r.input_hash, r.idempotency_key, r.max_runs,
           now() + r.deadline_ms * interval '1 millisecond'
      FROM jsonb_to_recordset(p_runs) AS r(id uuid, workflow_id uuid, workflow_version int, input jsonb,
           input_hash text, idempotency_key text, max_runs int, deadline_ms bigint)
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
-- As in 0005, but successors and admitted runs are enqueued without NOTIFY unless p has 'notify',
-- the step's own job (p.job) is completed in the same commit, and the next step may be handed to
-- the same worker (p.inlineJob, p.lockFor): the result is then 'applied:<job id>'.
CREATE OR REPLACE FUNCTION roster_engine_transition(p jsonb) RETURNS text
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_tenant uuid := (p->>'tenant')::uuid;
  v_run uuid := (p->>'run')::uuid;
  v_step text := p->>'step';
  v_attempt int := coalesce((p->>'attempt')::int, 1);
  v_generation int := coalesce((p->>'generation')::int, 0);
  v_run_status text := p->>'runStatus';
  run_row record;
  step_row record;
  terminal boolean;
  v_woken int := 0;
  v_inline bigint;
BEGIN
  PERFORM set_config('app.tenant_id', v_tenant::text, true);
  -- The worker's job for this step is done once this commits, whatever the outcome: delete it
  -- here, so graphile-worker's own completion deletes nothing and needs no WAL flush of its own.
  IF p ? 'job' THEN
    DELETE FROM graphile_worker._private_jobs WHERE id = (p->>'job')::bigint;
  END IF;
  SELECT status, deadline_at, generation INTO run_row FROM runs
   WHERE tenant_id = v_tenant AND id = v_run FOR UPDATE;
  IF NOT FOUND THEN
    RETURN 'missing';
  END IF;
  IF run_row.status NOT IN ('running', 'waiting') OR run_row.generation > v_generation THEN
    RETURN 'stale';
  END IF;
  IF v_step IS NOT NULL THEN
    SELECT attempt, generation, status INTO step_row FROM step_runs
     WHERE tenant_id = v_tenant AND run_id = v_run AND step_id = v_step;
    IF FOUND AND (step_row.generation > v_generation OR (step_row.generation = v_generation AND (
         step_row.attempt > v_attempt OR (step_row.attempt = v_attempt
           AND step_row.status IN ('succeeded', 'failed', 'retrying', 'cancelled'))))) THEN
      RETURN 'duplicate';
    END IF;
    IF p ? 'expectWaiting' AND (NOT FOUND OR step_row.status <> 'waiting') THEN
      RETURN 'duplicate';
    END IF;
  END IF;
  IF run_row.deadline_at < now() AND coalesce(v_run_status, '') NOT IN ('succeeded', 'failed', 'cancelled', 'dead_lettered') THEN
    UPDATE runs SET status = 'failed', finished_at = now(), updated_at = now(), failed_step = v_step,
           error = jsonb_build_object('code', 'DEADLINE_EXCEEDED', 'message', 'The run passed its deadline; raise the workflow''s deadline or make its steps faster.')
     WHERE tenant_id = v_tenant AND id = v_run;
    INSERT INTO audit_events (tenant_id, run_id, kind, data)
      VALUES (v_tenant, v_run, 'run.failed', jsonb_build_object('code', 'DEADLINE_EXCEEDED', 'step', v_step));
    v_woken := roster_engine_admit(v_tenant, 1);
    IF p ? 'notify' AND v_woken > 0 THEN
      PERFORM pg_notify('jobs:insert', json_build_object('count', v_woken)::text);
    END IF;
    RETURN 'deadline';
  END IF;
  IF v_step IS NOT NULL AND p ? 'stepStatus' THEN
    INSERT INTO step_runs AS s (tenant_id, run_id, step_id, status, attempt, generation, output, error, attempts, wake_at, finished_at)
    VALUES (v_tenant, v_run, v_step, p->>'stepStatus', v_attempt, v_generation, p->'output', p->'error',
            CASE WHEN p ? 'attemptError' THEN jsonb_build_array(p->'attemptError') ELSE '[]'::jsonb END,
            (p->>'wakeAt')::timestamptz,
            CASE WHEN p->>'stepStatus' IN ('succeeded', 'failed', 'cancelled') THEN now() END)
    ON CONFLICT (tenant_id, run_id, step_id) DO UPDATE SET
      status = excluded.status, attempt = excluded.attempt, generation = excluded.generation,
      output = excluded.output, error = excluded.error, wake_at = excluded.wake_at,
      finished_at = excluded.finished_at, updated_at = now(),
      attempts = CASE WHEN p ? 'attemptError' THEN s.attempts || jsonb_build_array(p->'attemptError') ELSE s.attempts END;
  END IF;
  terminal := v_run_status IN ('succeeded', 'failed', 'cancelled', 'dead_lettered');
  IF v_run_status IS NOT NULL AND v_run_status <> run_row.status THEN
    UPDATE runs SET status = v_run_status, updated_at = now(),
           output = CASE WHEN p ? 'runOutput' THEN p->'runOutput' ELSE output END,
           error = CASE WHEN p ? 'runError' THEN p->'runError' ELSE error END,
           failed_step = CASE WHEN p ? 'failedStep' THEN p->>'failedStep' ELSE failed_step END,
           finished_at = CASE WHEN terminal THEN now() ELSE finished_at END
     WHERE tenant_id = v_tenant AND id = v_run;
  END IF;
  IF p ? 'jobs' THEN
    v_woken := roster_engine_enqueue(p->'jobs');
  END IF;
  -- The next step that this worker runs at once, in the task that ran this one: its job is
  -- inserted already locked by the worker's pool, so no other worker takes it and no fetch (a
  -- commit of its own) is needed; if the worker dies, unlocking its pool makes the job run again.
  IF p ? 'inlineJob' AND p ? 'lockFor' THEN
    INSERT INTO graphile_worker._private_jobs
      (task_id, payload, run_at, max_attempts, priority, locked_by, locked_at, attempts)
    SELECT t.id, (p->'inlineJob'->'payload')::json, now(), 25,
           coalesce((p->'inlineJob'->>'priority')::smallint, 0), p->>'lockFor', now(), 1
      FROM graphile_worker._private_tasks t WHERE t.identifier = p->'inlineJob'->>'identifier'
    RETURNING id INTO v_inline;
  END IF;
  IF p ? 'audit' THEN
    INSERT INTO audit_events (tenant_id, run_id, kind, data)
    SELECT v_tenant, v_run, e->>'kind', coalesce(e->'data', '{}'::jsonb) FROM jsonb_array_elements(p->'audit') e;
  END IF;
  IF p ? 'review' THEN
    INSERT INTO review_tasks (tenant_id, run_id, step_id, kind, title, data, labels, role, due_at)
    VALUES (v_tenant, v_run, v_step, p->'review'->>'kind', p->'review'->>'title',
            coalesce(p->'review'->'data', '{}'::jsonb),
            CASE WHEN p->'review' ? 'labels' THEN ARRAY(SELECT jsonb_array_elements_text(p->'review'->'labels')) END,
            p->'review'->>'role', (p->'review'->>'dueAt')::timestamptz)
    ON CONFLICT (tenant_id, run_id, step_id) DO UPDATE SET status = 'open', result = NULL,
      resolved_at = NULL, due_at = excluded.due_at, data = excluded.data;
  END IF;
  IF p ? 'closeReview' THEN
    UPDATE review_tasks SET status = p->>'closeReview', resolved_at = now(),
           result = CASE WHEN p ? 'output' THEN p->'output' ELSE result END
     WHERE tenant_id = v_tenant AND run_id = v_run AND step_id = v_step AND status = 'open';
  END IF;
  -- A run that ends or starts waiting frees a slot: admit the tenant's oldest queued run.
  IF run_row.status = 'running' AND (terminal OR v_run_status = 'waiting') THEN
    v_woken := v_woken + roster_engine_admit(v_tenant, 1);
  END IF;
  -- A worker wakes its own queue after commit; other callers (the API) wake the workers.
  IF p ? 'notify' AND v_woken > 0 THEN
    PERFORM pg_notify('jobs:insert', json_build_object('count', v_woken)::text);
  END IF;
  RETURN CASE WHEN v_inline IS NULL THEN 'applied' ELSE 'applied:' || v_inline END;
END
$$;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_enqueue(jsonb), roster_engine_start_runs(uuid, jsonb, int) TO roster_app;
--> statement-breakpoint
-- Several transitions in one statement and one commit (a worker batches the transitions its
-- concurrent jobs finish at the same moment, as graphile-worker batches job completions). The
-- caller orders them by run id, so two batches lock runs in the same order. Results in order.
CREATE FUNCTION roster_engine_transitions(p jsonb) RETURNS text[]
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  results text[] := '{}';
  spec jsonb;
BEGIN
  FOR spec IN SELECT e FROM jsonb_array_elements(p) e LOOP
    results := results || roster_engine_transition(spec);
  END LOOP;
  RETURN results;
END
$$;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_transitions(jsonb) TO roster_app;
