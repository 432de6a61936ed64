-- Engine: the runs that a batch of transitions ends are marked `succeeded` with one statement,
-- not one UPDATE each (decision 0005, tenth session). A profile of roster_engine_transitions on
-- batches of 100 run ends put 60% of its time in those UPDATEs' set-up: the executor's start, a
-- copy of the four AFTER UPDATE triggers of `runs` and a parse of their WHEN clauses, and the CHECK
-- constraints, all once per statement. Postgres's CPU per run end fell from about 150 µs to 90.
--
-- The statement finds its rows by address (ctid), which the lock of each run returned in this
-- transaction; the rows stay locked, so the addresses hold. Not by `id = ANY(...)`, nor a join
-- on ids: under roster_app, the tenant's RLS condition lets the planner read the runs through a
-- tenant index instead, and with statistics that put few runs in a tenant it does, reading all of
-- a large tenant's runs for each batch (see 0029 and 0033). A TID scan is only chosen when
-- nothing else is cheaper, so the statement runs as roster_engine_end, a NOLOGIN role that holds
-- roster_app's privileges and a policy on `runs` alone that adds nothing to filter on, with
-- sequential scans off: the runs are then read by address. (With them on, a plan made while
-- `runs` was small scanned it whole and stayed cached as it grew.) The function checks the tenant
-- instead: every row it ended must belong to the caller's tenant and there must be one per
-- address, or it raises, and the whole transition rolls back (the worker's batcher then retries
-- the batch one transition at a time).
--
-- Only plain runs go this way: no parent, no children, no per-workflow or per-key limit. The
-- triggers that those would fire (runs_ended, runs_left_running) keep the tenant's RLS context of
-- the per-run UPDATE. Of the triggers, only runs_callback_on_end fires for a plain run: as
-- roster_engine_end, with roster_app's privileges and RLS on the callback tables.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roster_engine_end') THEN
    CREATE ROLE roster_engine_end NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
GRANT roster_app TO roster_engine_end;
--> statement-breakpoint
CREATE POLICY runs_engine_end_select ON runs FOR SELECT TO roster_engine_end USING (true);
--> statement-breakpoint
CREATE POLICY runs_engine_end_update ON runs FOR UPDATE TO roster_engine_end USING (true) WITH CHECK (true);
--> statement-breakpoint
-- Marks the runs at p_rows (addresses of rows this transaction locked) succeeded, with the
-- output at the same position of p_outputs where that is not NULL (a JSON null sets it to null).
CREATE FUNCTION roster_engine_end_runs(p_tenant uuid, p_rows tid[], p_outputs jsonb[]) RETURNS int
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan SET enable_seqscan = off AS $$
DECLARE
  v_ended int;
  v_foreign int;
BEGIN
  IF p_tenant IS DISTINCT FROM roster_current_tenant() THEN
    RAISE EXCEPTION 'roster_engine_end_runs: tenant % is not the transaction''s tenant', p_tenant;
  END IF;
  WITH ended AS (
    UPDATE runs r SET status = 'succeeded', updated_at = now(), finished_at = now(),
           output = coalesce(x.output, r.output)
      FROM unnest(p_rows, p_outputs) AS x(row_id, output)
     WHERE r.ctid = ANY (p_rows) AND r.ctid = x.row_id
    RETURNING r.tenant_id)
  SELECT count(*), count(*) FILTER (WHERE tenant_id <> p_tenant) INTO v_ended, v_foreign FROM ended;
  IF v_foreign > 0 OR v_ended <> cardinality(p_rows) THEN
    RAISE EXCEPTION 'roster_engine_end_runs: % of % rows ended, % of another tenant',
      v_ended, cardinality(p_rows), v_foreign;
  END IF;
  RETURN v_ended;
END
$$;
--> statement-breakpoint
ALTER FUNCTION roster_engine_end_runs(uuid, tid[], jsonb[]) OWNER TO roster_engine_end;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_engine_end_runs(uuid, tid[], jsonb[]) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_end_runs(uuid, tid[], jsonb[]) TO roster_app;
--> statement-breakpoint
-- As 0029, with the plain runs ended together. As 0028 says, the SET plan_cache_mode clause must
-- be repeated here.
CREATE OR REPLACE FUNCTION roster_engine_transitions(p jsonb) RETURNS text[]
  LANGUAGE plpgsql SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  results text[];
  specs jsonb[];
  spec jsonb;
  prev text;
  i int := 1;
  j int;
  n int;
  q int;
  middle jsonb[];
  v_tenant uuid;
  v_run uuid;
  v_steps text[];
  v_first int[];
  v_last int[];
  v_ok_first int[];
  v_ok_last int[];
  v_plain int[];
  v_tids tid[];
BEGIN
  SELECT coalesce(array_agg(e ORDER BY k), '{}') INTO specs
    FROM jsonb_array_elements(p) WITH ORDINALITY AS x(e, k);
  n := cardinality(specs);
  results := array_fill(NULL::text, ARRAY[n]);
  -- The terminal groups, by the positions of their first and last transitions.
  SELECT coalesce(array_agg(g.f ORDER BY g.f), '{}'), coalesce(array_agg(g.l ORDER BY g.f), '{}')
    INTO v_first, v_last
    FROM (
      SELECT min(k)::int AS f, max(k)::int AS l
        FROM (
          SELECT e, k,
                 sum(CASE WHEN e ? 'after' THEN 0 ELSE 1 END) OVER (ORDER BY k) AS grp,
                 count(*) OVER (PARTITION BY e->>'tenant', e->>'run') AS of_run
            FROM unnest(specs) WITH ORDINALITY AS x(e, k)) s
       WHERE grp > 0
       GROUP BY grp
      HAVING max(of_run) = count(*)
         AND count(DISTINCT e->>'run') = 1 AND count(DISTINCT e->>'tenant') = 1
         AND count(DISTINCT coalesce(e->>'generation', '0')) = 1
         AND bool_and(e->>'stepStatus' = 'succeeded' AND e ? 'step'
                      AND coalesce(e->>'runStatus', 'running') IN ('running', 'succeeded')
                      AND NOT (e ? 'after' AND e ? 'job')
                      AND NOT e ?| ARRAY['jobs', 'review', 'closeReview', 'expectWaiting',
                                         'attemptError', 'error', 'notify', 'wakeAt', 'runError',
                                         'failedStep'])
         AND count(*) FILTER (WHERE e->>'runStatus' = 'succeeded') = 1
         AND (array_agg(e ORDER BY k DESC))[1]->>'runStatus' = 'succeeded'
         AND NOT (array_agg(e ORDER BY k DESC))[1] ?| ARRAY['inlineJob', 'lockFor']) g;
  FOR v_tenant IN
    SELECT DISTINCT (specs[f]->>'tenant')::uuid FROM unnest(v_first) AS f
  LOOP
    PERFORM set_config('app.tenant_id', v_tenant::text, true);
    -- As in roster_engine_transition: the job that ran the step is done, whatever the outcome.
    DELETE FROM graphile_worker._private_jobs
     WHERE id = ANY (ARRAY(SELECT (specs[f]->>'job')::bigint FROM unnest(v_first) AS f
                            WHERE specs[f]->>'tenant' = v_tenant::text AND specs[f] ? 'job'));
    -- Each run is locked by key, in id order. Its step runs are looked up in a subquery of their
    -- own, so that the planner cannot turn the lookup into a join over the tenant's step runs.
    -- A run that no trigger has work for when it succeeds (no parent, no children, no limits) is
    -- plain: it is ended with the others by its row's address (roster_engine_end_runs).
    SELECT coalesce(array_agg(g.f ORDER BY g.f), '{}'), coalesce(array_agg(g.l ORDER BY g.f), '{}'),
           coalesce(array_agg(g.l ORDER BY g.f) FILTER (WHERE r.plain), '{}'),
           coalesce(array_agg(r.ctid ORDER BY g.f) FILTER (WHERE r.plain), '{}')
      INTO v_ok_first, v_ok_last, v_plain, v_tids
      FROM (SELECT f, l FROM unnest(v_first, v_last) AS u(f, l)
             WHERE specs[f]->>'tenant' = v_tenant::text
             ORDER BY (specs[f]->>'run')::uuid) g,
           LATERAL (SELECT r.ctid, r.id, r.status, r.generation, r.deadline_at,
                           r.parent_run_id IS NULL AND r.child_runs IS FALSE AND r.max_runs IS NULL
                             AND r.max_runs_per_key IS NULL AS plain
                      FROM runs r
                     WHERE r.tenant_id = v_tenant AND r.id = (specs[g.f]->>'run')::uuid
                     LIMIT 1 FOR UPDATE) r
     WHERE r.status = 'running'
       AND r.generation <= coalesce((specs[g.f]->>'generation')::int, 0)
       AND NOT coalesce(r.deadline_at < now(), false)
       AND NOT (SELECT EXISTS (
             SELECT 1 FROM step_runs s
              WHERE s.tenant_id = v_tenant AND s.run_id = r.id
                AND s.step_id = ANY (ARRAY(SELECT specs[q2]->>'step' FROM generate_series(g.f, g.l) AS q2))));
    CONTINUE WHEN cardinality(v_ok_first) = 0;
    INSERT INTO step_runs (tenant_id, run_id, step_id, status, attempt, generation, output, finished_at)
    SELECT v_tenant, (specs[q2]->>'run')::uuid, specs[q2]->>'step', 'succeeded',
           coalesce((specs[q2]->>'attempt')::int, 1), coalesce((specs[q2]->>'generation')::int, 0),
           specs[q2]->'output', now()
      FROM unnest(v_ok_first, v_ok_last) AS g(f, l), generate_series(g.f, g.l) AS q2
     ORDER BY q2;
    -- The plain runs in one statement; the others one statement a run, by key, as their triggers
    -- (the parent's wake-up, the children's end, a limited group's unpark) expect.
    IF cardinality(v_plain) > 0 THEN
      PERFORM roster_engine_end_runs(v_tenant, v_tids,
        ARRAY(SELECT CASE WHEN specs[q2] ? 'runOutput' THEN specs[q2]->'runOutput' END
                FROM unnest(v_plain) WITH ORDINALITY AS x(q2, o) ORDER BY o));
    END IF;
    FOREACH q IN ARRAY v_ok_last LOOP
      CONTINUE WHEN q = ANY (v_plain);
      UPDATE runs SET status = 'succeeded', updated_at = now(), finished_at = now(),
             output = CASE WHEN specs[q] ? 'runOutput' THEN specs[q]->'runOutput' ELSE output END
       WHERE tenant_id = v_tenant AND id = (specs[q]->>'run')::uuid;
    END LOOP;
    INSERT INTO audit_events (tenant_id, run_id, kind, data)
    SELECT v_tenant, (specs[q2]->>'run')::uuid, a->>'kind', coalesce(a->'data', '{}'::jsonb)
      FROM unnest(v_ok_first, v_ok_last) AS g(f, l), generate_series(g.f, g.l) AS q2,
           jsonb_array_elements(coalesce(specs[q2]->'audit', '[]'::jsonb)) WITH ORDINALITY AS x(a, o)
     ORDER BY q2, o;
    -- Each of these runs was running and has ended: a slot each for the tenant's queued runs.
    PERFORM roster_engine_admit(v_tenant, cardinality(v_ok_first));
    FOR q IN SELECT generate_series(g.f, g.l) FROM unnest(v_ok_first, v_ok_last) AS g(f, l) LOOP
      results[q] := 'applied';
    END LOOP;
  END LOOP;
  WHILE i <= n LOOP
    IF results[i] IS NOT NULL THEN
      prev := results[i];
      i := i + 1;
      CONTINUE;
    END IF;
    spec := specs[i];
    IF spec ? 'after' AND coalesce(prev, '') NOT LIKE 'applied%' THEN
      prev := 'stale';
      results[i] := prev;
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
        FOR q IN i .. j - 1 LOOP
          results[q] := 'applied';
        END LOOP;
        prev := 'applied';
        i := j;
        CONTINUE;
      END IF;
    END IF;
    IF i < n AND specs[i + 1] ? 'after' THEN
      spec := spec - 'inlineJob' - 'lockFor';
    END IF;
    prev := roster_engine_transition(spec - 'after');
    results[i] := prev;
    i := i + 1;
  END LOOP;
  RETURN results;
END
$$;
