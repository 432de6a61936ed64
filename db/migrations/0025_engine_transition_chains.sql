-- Engine: chains of transitions in one statement. A worker runs a run's consecutive pure steps
-- (transform, condition, succeed: no effect outside the run) in memory and commits their
-- transitions together, in order. A transition marked 'after' applies only if the one before it
-- in the statement applied; when it did not, it is 'stale' and changes nothing. The job the one
-- before would hand to the worker for it (its inlineJob) is not inserted: this transition is that
-- step, committed in the same transaction.
-- A transition that did not apply still completes the job that ran its step.
CREATE FUNCTION roster_engine_job_done(p jsonb, p_kept boolean, p_result text) RETURNS text
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF p_kept THEN
    DELETE FROM graphile_worker._private_jobs WHERE id = (p->>'job')::bigint;
  END IF;
  RETURN p_result;
END
$$;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_job_done(jsonb, boolean, text) TO roster_app;
--> statement-breakpoint
-- As in 0009, but with p.job and p.inlineJob the job that ran the step is updated into the next
-- step's job (same id, still locked by the worker) rather than deleted and inserted anew; and with p.inlineContext ('run' or 'steps') the result of a transition that handed
-- the worker its next step is 'applied:<job id>:<run context>' (roster_engine_context, with the
-- outputs of succeeded steps for 'steps'), so the worker runs that step without reading the run.
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
  -- The job that ran this step becomes the next step's job when the step hands the next one to
  -- this worker: one update in place of a delete and an insert.
  v_reuse boolean := p ? 'job' AND p ? 'inlineJob' AND p ? 'lockFor';
BEGIN
  PERFORM set_config('app.tenant_id', v_tenant::text, true);
  -- The worker's job for this step is done once this commits, whatever the outcome: delete it
  -- here, so graphile-worker's own completion deletes nothing and needs no WAL flush of its own.
  IF p ? 'job' AND NOT v_reuse THEN
    DELETE FROM graphile_worker._private_jobs WHERE id = (p->>'job')::bigint;
  END IF;
  SELECT status, deadline_at, generation INTO run_row FROM runs
   WHERE tenant_id = v_tenant AND id = v_run FOR UPDATE;
  IF NOT FOUND THEN
    RETURN roster_engine_job_done(p, v_reuse, 'missing');
  END IF;
  IF run_row.status NOT IN ('running', 'waiting') OR run_row.generation > v_generation THEN
    RETURN roster_engine_job_done(p, v_reuse, 'stale');
  END IF;
  IF v_step IS NOT NULL THEN
    SELECT attempt, generation, status INTO step_row FROM step_runs
     WHERE tenant_id = v_tenant AND run_id = v_run AND step_id = v_step;
    IF FOUND AND (step_row.generation > v_generation OR (step_row.generation = v_generation AND (
         step_row.attempt > v_attempt OR (step_row.attempt = v_attempt
           AND step_row.status IN ('succeeded', 'failed', 'retrying', 'cancelled'))))) THEN
      RETURN roster_engine_job_done(p, v_reuse, 'duplicate');
    END IF;
    IF p ? 'expectWaiting' AND (NOT FOUND OR step_row.status <> 'waiting') THEN
      RETURN roster_engine_job_done(p, v_reuse, 'duplicate');
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
    RETURN roster_engine_job_done(p, v_reuse, 'deadline');
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
  IF v_reuse THEN
    UPDATE graphile_worker._private_jobs j
       SET task_id = t.id, payload = (p->'inlineJob'->'payload')::json,
           priority = coalesce((p->'inlineJob'->>'priority')::smallint, 0),
           locked_by = p->>'lockFor', locked_at = now(), attempts = 1, key = NULL,
           last_error = NULL, updated_at = now()
      FROM graphile_worker._private_tasks t
     WHERE j.id = (p->>'job')::bigint AND t.identifier = p->'inlineJob'->>'identifier'
    RETURNING j.id INTO v_inline;
  END IF;
  IF p ? 'inlineJob' AND p ? 'lockFor' AND v_inline IS NULL THEN
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
  -- The worker reads the run before it runs most steps: hand it over with the inline job, as
  -- this transaction leaves it, and save it a round trip.
  RETURN CASE WHEN v_inline IS NULL THEN 'applied'
    WHEN p ? 'inlineContext' THEN 'applied:' || v_inline || ':'
      || roster_engine_context(v_tenant, v_run, p->>'inlineContext' = 'steps')::text
    ELSE 'applied:' || v_inline END;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION roster_engine_transitions(p jsonb) RETURNS text[]
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  results text[] := '{}';
  specs jsonb[];
  spec jsonb;
  prev text;
  i int := 1;
  j int;
  n int;
  middle jsonb[];
  v_tenant uuid;
  v_run uuid;
  v_steps text[];
BEGIN
  SELECT coalesce(array_agg(e ORDER BY k), '{}') INTO specs
    FROM jsonb_array_elements(p) WITH ORDINALITY AS x(e, k);
  n := cardinality(specs);
  WHILE i <= n LOOP
    spec := specs[i];
    IF spec ? 'after' AND coalesce(prev, '') NOT LIKE 'applied%' THEN
      prev := 'stale';
      results := results || prev;
      i := i + 1;
      CONTINUE;
    END IF;
    -- The middle of a chain: plain successes that hand the run on to the next transition of the
    -- statement. The one before applied in this transaction (so the run is locked, running, in
    -- this generation and before its deadline, as now() is the same), and they change neither
    -- the run nor the queue: their step runs and audit events go in one statement each.
    IF spec ? 'after' THEN
      j := i;
      WHILE j < n AND specs[j + 1] ? 'after' AND specs[j]->>'stepStatus' = 'succeeded'
            AND specs[j]->>'run' = spec->>'run' AND specs[j]->>'tenant' = spec->>'tenant'
            AND coalesce(specs[j]->>'runStatus', 'running') = 'running'
            AND NOT specs[j] ?| ARRAY['jobs', 'job', 'review', 'closeReview', 'expectWaiting',
                                     'attemptError', 'error', 'notify', 'wakeAt'] LOOP
        j := j + 1;
      END LOOP;
      middle := specs[i:j - 1];
      v_tenant := (spec->>'tenant')::uuid;
      v_run := (spec->>'run')::uuid;
      v_steps := ARRAY(SELECT m->>'step' FROM unnest(middle) m);
      IF cardinality(middle) > 0 AND NOT EXISTS (
           SELECT 1 FROM step_runs
            WHERE tenant_id = v_tenant AND run_id = v_run AND step_id = ANY(v_steps)) THEN
        INSERT INTO step_runs (tenant_id, run_id, step_id, status, attempt, generation, output, finished_at)
        SELECT v_tenant, v_run, m->>'step', 'succeeded',
               coalesce((m->>'attempt')::int, 1), coalesce((m->>'generation')::int, 0), m->'output', now()
          FROM unnest(middle) WITH ORDINALITY AS x(m, k) ORDER BY k;
        INSERT INTO audit_events (tenant_id, run_id, kind, data)
        SELECT v_tenant, v_run, e->>'kind', coalesce(e->'data', '{}'::jsonb)
          FROM unnest(middle) WITH ORDINALITY AS x(m, k),
               jsonb_array_elements(coalesce(m->'audit', '[]'::jsonb)) WITH ORDINALITY AS a(e, l)
         ORDER BY k, l;
        results := results || array_fill('applied'::text, ARRAY[cardinality(middle)]);
        prev := 'applied';
        i := j;
        CONTINUE;
      END IF;
    END IF;
    IF i < n AND specs[i + 1] ? 'after' THEN
      spec := spec - 'inlineJob' - 'lockFor';
    END IF;
    prev := roster_engine_transition(spec - 'after');
    results := results || prev;
    i := i + 1;
  END LOOP;
  RETURN results;
END
$$;
--> statement-breakpoint
-- The steps of a chain commit in one transaction, where now() is the same for all: a step's
-- start is the moment its row is written, so the run's timeline keeps them in order.
ALTER TABLE step_runs ALTER COLUMN started_at SET DEFAULT clock_timestamp();
--> statement-breakpoint
-- As in 0018, with one statement per case. A single statement whose step outputs were a CASE on
-- p_with_steps was re-planned on every call (Postgres kept choosing a custom plan over the
-- generic one, whose cost counts the step_runs subquery): about 60 µs a call, now about 10.
CREATE OR REPLACE FUNCTION roster_engine_context(p_tenant uuid, p_run uuid, p_with_steps boolean) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  result jsonb;
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  SELECT jsonb_build_object('status', r.status, 'input', r.input, 'deadlineAt', r.deadline_at,
           'startedAt', r.started_at, 'generation', r.generation, 'steps', NULL)
    INTO result FROM runs r WHERE r.tenant_id = p_tenant AND r.id = p_run;
  IF result IS NOT NULL AND p_with_steps THEN
    SELECT jsonb_set(result, '{steps}', coalesce(jsonb_object_agg(s.step_id, jsonb_build_object('output', s.output)), '{}'::jsonb))
      INTO result FROM step_runs s
     WHERE s.tenant_id = p_tenant AND s.run_id = p_run AND s.status = 'succeeded'
       AND position('@' IN s.step_id) = 0 AND position('#' IN s.step_id) = 0;
  END IF;
  RETURN result;
END
$$;
