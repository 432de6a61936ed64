-- roster_engine_terminal_groups without window passes for statements without chains (decision
-- 0005, twelfth session).
--
-- A statement of one-step runs (a start batch's, or jobs' that do not chain) has no `after` spec:
-- each group is one spec, terminal if it ends its run as a plain success, of a run that appears
-- nowhere else in the statement. Those are found with one partition count instead of 0044's
-- ordered window pass, which tracked chains: about half of the function's time on such
-- statements. Statements with chains take 0044's pass, unchanged.
CREATE OR REPLACE FUNCTION roster_engine_terminal_groups(specs jsonb[], OUT firsts int[], OUT lasts int[])
  LANGUAGE plpgsql IMMUTABLE SET search_path = public, pg_temp AS $$
BEGIN
  -- No chain in the statement (no `after` spec): every group is one spec, which ends its run and
  -- is a plain success, of a run that appears nowhere else in the statement.
  IF NOT EXISTS (SELECT 1 FROM unnest(specs) AS e WHERE e ? 'after') THEN
    SELECT coalesce(array_agg(k::int ORDER BY k), '{}') INTO firsts
      FROM (SELECT k, e, count(*) OVER (PARTITION BY e->>'tenant', e->>'run') AS of_run
              FROM unnest(specs) WITH ORDINALITY AS x(e, k)) s
     WHERE of_run = 1
       AND coalesce(e->>'run' IS NOT NULL AND e->>'tenant' IS NOT NULL
                    AND e->>'stepStatus' = 'succeeded' AND e ? 'step'
                    AND e->>'runStatus' = 'succeeded'
                    AND NOT e ?| ARRAY['inlineJob', 'lockFor', 'jobs', 'review', 'closeReview',
                                       'expectWaiting', 'attemptError', 'error', 'notify',
                                       'wakeAt', 'runError', 'failedStep'], false);
    lasts := firsts;
    RETURN;
  END IF;
  -- In one ordered pass: a group starts at a spec that is not `after` (f, the latest such
  -- position) and ends where the next spec is not `after` (last). A spec is bad if it is not a
  -- plain success, or, being `after`, does not continue the one before it (same run, tenant and
  -- generation, which did not end the run). A group is terminal if its last spec ends the run
  -- (done), no bad spec lies in it (the latest bad position is before f), and its run appears
  -- nowhere else in the statement (of_run).
  SELECT coalesce(array_agg(t.f ORDER BY t.f), '{}'), coalesce(array_agg(t.l ORDER BY t.f), '{}')
    INTO firsts, lasts
    FROM (
      SELECT k::int AS l, max(CASE WHEN NOT after THEN k END) OVER w AS f,
             max(CASE WHEN bad THEN k END) OVER w AS lastbad, last, done, of_run
        FROM (
          SELECT k, e ? 'after' AS after,
                 NOT coalesce(lead(e ? 'after') OVER w, false) AS last,
                 coalesce(e->>'runStatus' = 'succeeded'
                          AND NOT e ?| ARRAY['inlineJob', 'lockFor'], false) AS done,
                 count(*) OVER (PARTITION BY e->>'tenant', e->>'run') AS of_run,
                 NOT coalesce(
                   e->>'run' IS NOT NULL AND e->>'tenant' IS NOT NULL
                   AND e->>'stepStatus' = 'succeeded' AND e ? 'step'
                   AND coalesce(e->>'runStatus', 'running') IN ('running', 'succeeded')
                   AND NOT (e ? 'after' AND e ? 'job')
                   AND NOT e ?| ARRAY['jobs', 'review', 'closeReview', 'expectWaiting',
                                      'attemptError', 'error', 'notify', 'wakeAt', 'runError',
                                      'failedStep']
                   AND (NOT e ? 'after' OR (
                         e->>'run' = lag(e->>'run') OVER w
                         AND e->>'tenant' = lag(e->>'tenant') OVER w
                         AND coalesce(e->>'generation', '0')
                             = lag(coalesce(e->>'generation', '0')) OVER w
                         AND lag(e->>'runStatus') OVER w IS DISTINCT FROM 'succeeded')),
                   false) AS bad
            FROM unnest(specs) WITH ORDINALITY AS x(e, k)
          WINDOW w AS (ORDER BY k)) s
      WINDOW w AS (ORDER BY k)) t
   WHERE t.last AND t.done AND t.f IS NOT NULL AND coalesce(t.lastbad < t.f, true)
     AND t.of_run = t.l - t.f + 1;
END
$$;
