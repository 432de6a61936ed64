-- Engine: chains of transitions in one statement. A worker runs a run's consecutive pure steps
-- (transform, condition, succeed: no effect outside the run) in memory and commits their
-- transitions together, in order. A transition marked 'after' applies only if the one before it
-- in the statement applied; when it did not, it is 'stale' and changes nothing. The job the one
-- before would hand to the worker for it (its inlineJob) is not inserted: this transition is that
-- step, committed in the same transaction.
CREATE OR REPLACE FUNCTION roster_engine_transitions(p jsonb) RETURNS text[]
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  results text[] := '{}';
  specs jsonb[];
  spec jsonb;
  prev text;
  i int;
BEGIN
  SELECT coalesce(array_agg(e ORDER BY n), '{}') INTO specs
    FROM jsonb_array_elements(p) WITH ORDINALITY AS x(e, n);
  FOR i IN 1 .. cardinality(specs) LOOP
    spec := specs[i];
    IF spec ? 'after' AND coalesce(prev, '') NOT LIKE 'applied%' THEN
      prev := 'stale';
    ELSE
      IF i < cardinality(specs) AND specs[i + 1] ? 'after' THEN
        spec := spec - 'inlineJob' - 'lockFor';
      END IF;
      prev := roster_engine_transition(spec - 'after');
    END IF;
    results := results || prev;
  END LOOP;
  RETURN results;
END
$$;
--> statement-breakpoint
-- The steps of a chain commit in one transaction, where now() is the same for all: a step's
-- start is the moment its row is written, so the run's timeline keeps them in order.
ALTER TABLE step_runs ALTER COLUMN started_at SET DEFAULT clock_timestamp();
