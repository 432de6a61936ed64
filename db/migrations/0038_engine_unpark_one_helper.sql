-- Engine: one function unparks a group's oldest parked runs, for the run-end trigger (0032) and
-- the sweep (0035), which each wrote that query twice (a workflow's maxRuns, a key's
-- maxRunsPerKey). Same behaviour: the trigger unparks one run under the group's lock, the sweep
-- as many as the group has room for. The two branches keep their constant `parked_on` so that
-- the generic plans use runs_parked_workflow_idx and runs_parked_key_idx. As 0028 says, the SET
-- plan_cache_mode clause of unpark_due must be repeated here.
CREATE FUNCTION roster_engine_unpark_oldest(p_tenant uuid, p_workflow uuid, p_key text, p_n int)
  RETURNS int LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  r record;
  n int := 0;
BEGIN
  -- p_key NULL: the runs parked on the workflow's maxRuns; else those parked on this key.
  FOR r IN
    SELECT id FROM runs
     WHERE p_key IS NULL AND tenant_id = p_tenant AND workflow_id = p_workflow
       AND status = 'queued' AND parked_on = 'workflow'
     ORDER BY created_at, id LIMIT p_n
  LOOP
    UPDATE runs SET parked_on = NULL WHERE tenant_id = p_tenant AND id = r.id;
    n := n + 1;
  END LOOP;
  FOR r IN
    SELECT id FROM runs
     WHERE p_key IS NOT NULL AND tenant_id = p_tenant AND workflow_id = p_workflow
       AND concurrency_key = p_key AND status = 'queued' AND parked_on = 'key'
     ORDER BY created_at, id LIMIT p_n
  LOOP
    UPDATE runs SET parked_on = NULL WHERE tenant_id = p_tenant AND id = r.id;
    n := n + 1;
  END LOOP;
  RETURN n;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION roster_engine_unpark_group() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF NEW.max_runs IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(roster_engine_group_lock(NEW.tenant_id, NEW.workflow_id, NULL));
    PERFORM roster_engine_unpark_oldest(NEW.tenant_id, NEW.workflow_id, NULL, 1);
  END IF;
  IF NEW.max_runs_per_key IS NOT NULL THEN
    PERFORM pg_advisory_xact_lock(
      roster_engine_group_lock(NEW.tenant_id, NEW.workflow_id, NEW.concurrency_key));
    PERFORM roster_engine_unpark_oldest(NEW.tenant_id, NEW.workflow_id, NEW.concurrency_key, 1);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION roster_engine_unpark_due(p_tenant uuid) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  g record;
  room int;
  n int := 0;
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true);
  FOR g IN
    WITH RECURSIVE w AS (
      (SELECT workflow_id FROM runs
        WHERE tenant_id = p_tenant AND status = 'queued' AND parked_on = 'workflow'
        ORDER BY workflow_id LIMIT 1)
      UNION ALL
      SELECT nxt.workflow_id FROM w CROSS JOIN LATERAL (
        SELECT workflow_id FROM runs
         WHERE tenant_id = p_tenant AND status = 'queued' AND parked_on = 'workflow'
           AND workflow_id > w.workflow_id
         ORDER BY workflow_id LIMIT 1) nxt)
    SELECT workflow_id FROM w
  LOOP
    CONTINUE WHEN NOT pg_try_advisory_xact_lock(
      roster_engine_group_lock(p_tenant, g.workflow_id, NULL));
    -- The limit of the run next in line.
    SELECT max_runs - (SELECT count(*) FROM runs
                        WHERE tenant_id = p_tenant AND workflow_id = g.workflow_id
                          AND status = 'running')
      INTO room
      FROM runs
     WHERE tenant_id = p_tenant AND workflow_id = g.workflow_id AND status = 'queued'
       AND parked_on = 'workflow'
     ORDER BY created_at, id LIMIT 1;
    IF coalesce(room, 0) > 0 THEN
      n := n + roster_engine_unpark_oldest(p_tenant, g.workflow_id, NULL, room);
    END IF;
  END LOOP;
  FOR g IN
    WITH RECURSIVE k AS (
      (SELECT workflow_id, concurrency_key FROM runs
        WHERE tenant_id = p_tenant AND status = 'queued' AND parked_on = 'key'
        ORDER BY workflow_id, concurrency_key LIMIT 1)
      UNION ALL
      SELECT nxt.workflow_id, nxt.concurrency_key FROM k CROSS JOIN LATERAL (
        SELECT workflow_id, concurrency_key FROM runs
         WHERE tenant_id = p_tenant AND status = 'queued' AND parked_on = 'key'
           AND (workflow_id, concurrency_key) > (k.workflow_id, k.concurrency_key)
         ORDER BY workflow_id, concurrency_key LIMIT 1) nxt)
    SELECT workflow_id, concurrency_key FROM k
  LOOP
    CONTINUE WHEN NOT pg_try_advisory_xact_lock(
      roster_engine_group_lock(p_tenant, g.workflow_id, g.concurrency_key));
    SELECT max_runs_per_key - (SELECT count(*) FROM runs
                                WHERE tenant_id = p_tenant AND workflow_id = g.workflow_id
                                  AND concurrency_key = g.concurrency_key AND status = 'running')
      INTO room
      FROM runs
     WHERE tenant_id = p_tenant AND workflow_id = g.workflow_id
       AND concurrency_key = g.concurrency_key AND status = 'queued' AND parked_on = 'key'
     ORDER BY created_at, id LIMIT 1;
    IF coalesce(room, 0) > 0 THEN
      n := n + roster_engine_unpark_oldest(p_tenant, g.workflow_id, g.concurrency_key, room);
    END IF;
  END LOOP;
  RETURN n;
END
$$;
