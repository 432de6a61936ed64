-- Parallel, map and callWorkflow steps: child runs know their parent, step rows hold fan-in state.
ALTER TABLE runs ADD COLUMN parent_run_id uuid;
--> statement-breakpoint
-- The parent's step row key (`<step>` or `<step>@<iteration path>`) that waits for this run.
ALTER TABLE runs ADD COLUMN parent_step text;
--> statement-breakpoint
CREATE INDEX runs_parent_idx ON runs USING btree (tenant_id, parent_run_id) WHERE parent_run_id IS NOT NULL;
--> statement-breakpoint
-- A parallel or map step's join state (core JoinState / MapState), or a callWorkflow step's child
-- run id; a branch or iteration marker row (`<step>#<branch|index>`) holds its map item.
ALTER TABLE step_runs ADD COLUMN state jsonb;
--> statement-breakpoint
-- What a step inside a branch or iteration needs in one round trip: the run, the outputs of the
-- steps that succeeded, and the status and state of the branch/iteration markers it runs under.
CREATE FUNCTION roster_engine_flow_context(p_tenant uuid, p_run uuid, p_markers text[], p_path text) RETURNS jsonb
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  result jsonb;
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  SELECT jsonb_build_object('status', r.status, 'input', r.input, 'deadlineAt', r.deadline_at,
           'startedAt', r.started_at, 'generation', r.generation,
           'steps', coalesce((
             SELECT jsonb_object_agg(s.step_id, jsonb_build_object('output', s.output))
               FROM step_runs s
              WHERE s.tenant_id = p_tenant AND s.run_id = p_run AND s.status = 'succeeded'
                AND position('#' IN s.step_id) = 0
                -- only instances on this iteration path: not every iteration of a big map
                AND (position('@' IN s.step_id) = 0
                  OR split_part(s.step_id, '@', 2) = p_path
                  OR starts_with(p_path, split_part(s.step_id, '@', 2) || '.'))), '{}'::jsonb),
           'markers', coalesce((
             SELECT jsonb_object_agg(s.step_id, jsonb_build_object('status', s.status,
                      'generation', s.generation, 'state', s.state))
               FROM step_runs s
              WHERE s.tenant_id = p_tenant AND s.run_id = p_run AND s.step_id = ANY(p_markers)), '{}'::jsonb))
    INTO result FROM runs r WHERE r.tenant_id = p_tenant AND r.id = p_run;
  RETURN result;
END
$$;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_flow_context(uuid, uuid, text[], text) TO roster_app;
--> statement-breakpoint
-- As in 0005, but top-level steps no longer see iteration instances (`<step>@<path>`) or branch
-- and iteration markers (`<step>#<member>`): a map's output is its list, and a run after a map
-- of 1,000 items does not load 1,000 rows per step.
CREATE OR REPLACE FUNCTION roster_engine_context(p_tenant uuid, p_run uuid, p_with_steps boolean) RETURNS jsonb
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
              WHERE s.tenant_id = p_tenant AND s.run_id = p_run AND s.status = 'succeeded'
                AND position('@' IN s.step_id) = 0 AND position('#' IN s.step_id) = 0), '{}'::jsonb)
           END)
    INTO result FROM runs r WHERE r.tenant_id = p_tenant AND r.id = p_run;
  RETURN result;
END
$$;
--> statement-breakpoint
-- When a run ends: its active child runs are cancelled (their steps, reviews and own children
-- with them, through this same trigger), and a child run wakes the parent step that waits for it
-- with a `child` step job. Same transaction as the status change, so neither can be lost.
CREATE FUNCTION roster_engine_run_ended() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  parent record;
  v_attempt int;
  v_path text;
  payload jsonb;
BEGIN
  IF NEW.status = 'cancelled' THEN
    UPDATE step_runs SET status = 'cancelled', finished_at = now(), updated_at = now()
     WHERE tenant_id = NEW.tenant_id AND run_id = NEW.id AND status IN ('running', 'waiting', 'retrying', 'pending');
    UPDATE review_tasks SET status = 'cancelled', resolved_at = now()
     WHERE tenant_id = NEW.tenant_id AND run_id = NEW.id AND status = 'open';
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
CREATE TRIGGER runs_ended AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'dead_lettered') AND OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION roster_engine_run_ended();
