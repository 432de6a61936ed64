-- Engine tables: tenant RLS, grants, and the functions of the step-transition hot path.
SELECT roster_enable_tenant_rls('runs');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('step_runs');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('audit_events');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('review_tasks');
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON runs, step_runs, review_tasks TO roster_app;
--> statement-breakpoint
-- Audit events are append-only for the runtime role.
GRANT SELECT, INSERT ON audit_events TO roster_app;
--> statement-breakpoint
-- worker_heartbeats holds no tenant data (pool ids, hosts, pids): no RLS, the runtime role's
-- worker processes beat and sweep it.
GRANT SELECT, INSERT, UPDATE, DELETE ON worker_heartbeats TO roster_app;
--> statement-breakpoint
-- roster_engine owns the few SECURITY DEFINER functions that look across tenants (deadline and
-- admission sweeps). It cannot log in or bypass RLS; narrow SELECT policies let it read runs.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roster_engine') THEN
    CREATE ROLE roster_engine NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO roster_engine;
--> statement-breakpoint
GRANT SELECT ON runs TO roster_engine;
--> statement-breakpoint
CREATE POLICY runs_engine_select ON runs FOR SELECT TO roster_engine USING (true);
--> statement-breakpoint
-- Active runs past their deadline, across tenants (ids only; the sweep fails each one under its
-- tenant's RLS context).
CREATE FUNCTION roster_engine_overdue_runs(p_limit int) RETURNS TABLE (tenant_id uuid, run_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT r.tenant_id, r.id FROM runs r
   WHERE r.status IN ('queued', 'running', 'waiting') AND r.deadline_at < now()
   ORDER BY r.deadline_at LIMIT p_limit
$$;
--> statement-breakpoint
-- Tenants with queued runs (the admission sweep admits them under their own RLS context).
CREATE FUNCTION roster_engine_queued_tenants() RETURNS TABLE (tenant_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT r.tenant_id FROM runs r WHERE r.status = 'queued'
$$;
--> statement-breakpoint
ALTER FUNCTION roster_engine_overdue_runs(int) OWNER TO roster_engine;
--> statement-breakpoint
ALTER FUNCTION roster_engine_queued_tenants() OWNER TO roster_engine;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_engine_overdue_runs(int), roster_engine_queued_tenants() FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_overdue_runs(int), roster_engine_queued_tenants() TO roster_app;
--> statement-breakpoint
-- Admits up to p_slots of the tenant's oldest queued runs (respecting each workflow's max_runs)
-- and enqueues their first step. Runs as the caller, under the tenant context it sets.
CREATE FUNCTION roster_engine_admit(p_tenant uuid, p_slots int) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  admitted int := 0;
  candidate record;
BEGIN
  IF p_slots <= 0 THEN
    RETURN 0;
  END IF;
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  FOR candidate IN
    SELECT id, workflow_id, workflow_version, generation, max_runs FROM runs
     WHERE tenant_id = p_tenant AND status = 'queued'
     ORDER BY created_at, id
     LIMIT greatest(p_slots * 4, 16)
     FOR UPDATE SKIP LOCKED
  LOOP
    EXIT WHEN admitted >= p_slots;
    IF candidate.max_runs IS NOT NULL AND (
      SELECT count(*) FROM runs
       WHERE tenant_id = p_tenant AND workflow_id = candidate.workflow_id AND status = 'running'
    ) >= candidate.max_runs THEN
      CONTINUE;
    END IF;
    UPDATE runs SET status = 'running', started_at = now(), updated_at = now()
     WHERE tenant_id = p_tenant AND id = candidate.id;
    PERFORM graphile_worker.add_job('roster_step',
      json_build_object('t', p_tenant, 'r', candidate.id, 'w', candidate.workflow_id,
        'v', candidate.workflow_version, 'a', 1, 'g', candidate.generation),
      max_attempts => 25);
    admitted := admitted + 1;
  END LOOP;
  RETURN admitted;
END
$$;
--> statement-breakpoint
-- One step transition in ONE statement (so one transaction and one round trip): record the
-- step's outcome, change the run, enqueue the successors, write the audit events, open a review
-- task, and admit a queued run when a slot frees. Deduplicates redelivered jobs: an outcome for
-- an attempt (or generation) older than what is recorded is ignored. Returns 'applied',
-- 'duplicate', 'stale' (run no longer active), 'missing' or 'deadline' (the run was failed
-- because its deadline passed).
CREATE FUNCTION roster_engine_transition(p jsonb) RETURNS text
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
  job jsonb;
  terminal boolean;
BEGIN
  PERFORM set_config('app.tenant_id', v_tenant::text, true);
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
    PERFORM roster_engine_admit(v_tenant, 1);
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
    FOR job IN SELECT * FROM jsonb_array_elements(p->'jobs') LOOP
      PERFORM graphile_worker.add_job(job->>'identifier', (job->'payload')::json,
        run_at => (job->>'runAt')::timestamptz, max_attempts => 25, job_key => job->>'jobKey');
    END LOOP;
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
    PERFORM roster_engine_admit(v_tenant, 1);
  END IF;
  RETURN 'applied';
END
$$;
--> statement-breakpoint
-- What a step needs to evaluate its expressions, in one round trip: the run's state and input,
-- and (when asked) the outputs of the steps that succeeded so far.
CREATE FUNCTION roster_engine_context(p_tenant uuid, p_run uuid, p_with_steps boolean) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  result jsonb;
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  SELECT jsonb_build_object('status', r.status, 'input', r.input, 'deadlineAt', r.deadline_at,
           'startedAt', r.started_at, 'generation', r.generation,
           'steps', CASE WHEN p_with_steps THEN coalesce((
             SELECT jsonb_object_agg(s.step_id, jsonb_build_object('output', s.output))
               FROM step_runs s
              WHERE s.tenant_id = p_tenant AND s.run_id = p_run AND s.status = 'succeeded'), '{}'::jsonb)
           END)
    INTO result FROM runs r WHERE r.tenant_id = p_tenant AND r.id = p_run;
  RETURN result;
END
$$;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_admit(uuid, int), roster_engine_transition(jsonb),
  roster_engine_context(uuid, uuid, boolean) TO roster_app;