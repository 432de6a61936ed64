-- roster_engine_transitions reads a terminal group's run once (decision 0005, twelfth session).
--
-- As 0044, except in the statements that end terminal groups:
-- - the lock reads each group's run id from its first spec once, and hands the locked runs' ids
--   on (v_ok_runs) to the step runs' and audit events' inserts, which parsed it again per spec;
-- - each spec's step id is read once (v_step_ids); the check for step runs already recorded
--   takes the group's slice of it, instead of building an array in a subquery per run.
-- A group's specs share their run (roster_engine_terminal_groups), so the rows written are the
-- same. As 0028 says, the SET plan_cache_mode clause must be repeated here.
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
  v_step_ids text[];
  v_ok_runs uuid[];
BEGIN
  SELECT coalesce(array_agg(e ORDER BY k), '{}') INTO specs
    FROM jsonb_array_elements(p) WITH ORDINALITY AS x(e, k);
  n := cardinality(specs);
  -- Each spec's step, read once: the lock's check for recorded step runs slices it by group.
  v_step_ids := ARRAY(SELECT e->>'step' FROM unnest(specs) WITH ORDINALITY AS x(e, k) ORDER BY k);
  results := array_fill(NULL::text, ARRAY[n]);
  SELECT g.firsts, g.lasts INTO v_first, v_last FROM roster_engine_terminal_groups(specs) g;
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
           coalesce(array_agg(r.id ORDER BY g.f), '{}'),
           coalesce(array_agg(g.l ORDER BY g.f) FILTER (WHERE r.plain), '{}'),
           coalesce(array_agg(r.ctid ORDER BY g.f) FILTER (WHERE r.plain), '{}')
      INTO v_ok_first, v_ok_last, v_ok_runs, v_plain, v_tids
      FROM (SELECT f, l, (specs[f]->>'run')::uuid AS run FROM unnest(v_first, v_last) AS u(f, l)
             WHERE specs[f]->>'tenant' = v_tenant::text
             ORDER BY 3) g,
           LATERAL (SELECT r.ctid, r.id, r.status, r.generation, r.deadline_at,
                           r.parent_run_id IS NULL AND r.child_runs IS FALSE AND r.max_runs IS NULL
                             AND r.max_runs_per_key IS NULL AS plain
                      FROM runs r
                     WHERE r.tenant_id = v_tenant AND r.id = g.run
                     LIMIT 1 FOR UPDATE) r
     WHERE r.status = 'running'
       AND r.generation <= coalesce((specs[g.f]->>'generation')::int, 0)
       AND NOT coalesce(r.deadline_at < now(), false)
       AND NOT (SELECT EXISTS (
             SELECT 1 FROM step_runs s
              WHERE s.tenant_id = v_tenant AND s.run_id = r.id
                AND s.step_id = ANY (v_step_ids[g.f:g.l])));
    CONTINUE WHEN cardinality(v_ok_first) = 0;
    INSERT INTO step_runs (tenant_id, run_id, step_id, status, attempt, generation, output, finished_at)
    SELECT v_tenant, g.run, v_step_ids[q2], 'succeeded',
           coalesce((specs[q2]->>'attempt')::int, 1), coalesce((specs[q2]->>'generation')::int, 0),
           specs[q2]->'output', now()
      FROM unnest(v_ok_first, v_ok_last, v_ok_runs) AS g(f, l, run), generate_series(g.f, g.l) AS q2
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
    SELECT v_tenant, g.run, a->>'kind', coalesce(a->'data', '{}'::jsonb)
      FROM unnest(v_ok_first, v_ok_last, v_ok_runs) AS g(f, l, run), generate_series(g.f, g.l) AS q2,
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
