-- Engine: a run that stops while running announces it, so workers abort its calls in flight.
--
-- A run is cancelled, failed (its deadline, a fatal step, another branch) or dead-lettered while a
-- worker may be in the middle of one of its connector or decision calls. Before, that call went on
-- until it returned or its step timed out, holding the worker's slot, and its result was then
-- thrown away. Now the run's end NOTIFYs `roster_run_stopped` with `<tenant>:<run>:<status>`
-- when it commits; every worker LISTENs, aborts the run's calls (their AbortSignal), and frees
-- the slots (packages/engine InFlightCalls, apps/worker run-stop-listener).
--
-- Only runs that were `running` can have a call in flight (a run that waits at its top level holds
-- no job), and runs that succeed never notify: a NOTIFY serialises commits on Postgres's notify
-- queue lock, which the hot path of run ends must not take (decision 0005).
CREATE FUNCTION roster_engine_notify_run_stopped() RETURNS trigger
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('roster_run_stopped', NEW.tenant_id || ':' || NEW.id || ':' || NEW.status);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER runs_stopped_notify AFTER UPDATE OF status ON runs FOR EACH ROW
  WHEN (OLD.status = 'running' AND NEW.status IN ('cancelled', 'failed', 'dead_lettered'))
  EXECUTE FUNCTION roster_engine_notify_run_stopped();
