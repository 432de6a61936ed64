-- Engine: the admission sweep unparks the parked runs of groups that have room.
--
-- 0032 unparks a group's oldest parked run when a running run of the group stops running, and
-- its trigger fires only for runs with limits. A workflow's maxRuns counts all of its running
-- runs, those of a version without limits too: when a new version adds `maxRuns`, its runs park
-- behind the old version's running runs, whose ends unpark nothing. They stayed parked for good.
-- The sweep (every second, per tenant with queued runs, before it admits) now finds each group
-- with parked runs (a loose index scan over runs_parked_workflow_idx and runs_parked_key_idx:
-- one probe per group, not per parked run) and unparks as many of its oldest runs as the group
-- has room for. Groups whose lock another transaction holds are left to the next sweep.
CREATE FUNCTION roster_engine_unpark_due(p_tenant uuid) RETURNS int
  LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  g record;
  r record;
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
    CONTINUE WHEN coalesce(room, 0) <= 0;
    FOR r IN
      SELECT id FROM runs
       WHERE tenant_id = p_tenant AND workflow_id = g.workflow_id AND status = 'queued'
         AND parked_on = 'workflow'
       ORDER BY created_at, id LIMIT room
    LOOP
      UPDATE runs SET parked_on = NULL WHERE tenant_id = p_tenant AND id = r.id;
      n := n + 1;
    END LOOP;
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
    CONTINUE WHEN coalesce(room, 0) <= 0;
    FOR r IN
      SELECT id FROM runs
       WHERE tenant_id = p_tenant AND workflow_id = g.workflow_id
         AND concurrency_key = g.concurrency_key AND status = 'queued' AND parked_on = 'key'
       ORDER BY created_at, id LIMIT room
    LOOP
      UPDATE runs SET parked_on = NULL WHERE tenant_id = p_tenant AND id = r.id;
      n := n + 1;
    END LOOP;
  END LOOP;
  RETURN n;
END
$$;
