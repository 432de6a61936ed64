-- Engine: the runs_ended trigger (0018) runs only for a run it has work for.
-- It cancels the steps and reviews of a cancelled run, cancels the child runs of a run that
-- ends, and wakes the parent of a child run. It fired on every run's end, so a run with no
-- parent and no children paid for a plpgsql call and an UPDATE that matched nothing: about
-- 70 µs of a 1-step run's ~400 µs in Postgres. A run now records that it started child runs
-- (callWorkflow sets child_runs on the parent, in the transaction that starts the child), and the
-- trigger's WHEN clause checks that flag, parent_run_id and the status without calling anything.
-- Runs that existed before this migration have child_runs NULL (unknown), and the trigger still
-- fires for them.
ALTER TABLE runs ADD COLUMN child_runs boolean;
--> statement-breakpoint
ALTER TABLE runs ALTER COLUMN child_runs SET DEFAULT false;
--> statement-breakpoint
DROP TRIGGER runs_ended ON runs;
--> statement-breakpoint
CREATE TRIGGER runs_ended AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (NEW.status IN ('succeeded', 'failed', 'cancelled', 'dead_lettered')
        AND OLD.status IS DISTINCT FROM NEW.status
        AND (NEW.status = 'cancelled' OR NEW.parent_run_id IS NOT NULL OR NEW.child_runs IS NOT FALSE))
  EXECUTE FUNCTION roster_engine_run_ended();
