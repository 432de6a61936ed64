-- Step runs keep to their run without a foreign key (decision 0005, twelfth session).
--
-- The key checked each step run's insert: a lookup of the run and a KEY SHARE lock of it, through
-- the executor, about 7% of Postgres's time on a 1-step run. The run was already locked: every
-- writer of step_runs locks the run first (FOR UPDATE in the transition functions and fan-out,
-- FOR SHARE when a slow call is marked running) and writes only while it is running or waiting,
-- in the same transaction. roster_app cannot delete runs, so no run goes away under a step run.
--
-- What the key's ON DELETE CASCADE did, a statement trigger does: deleting runs (an operator's
-- cleanup, or a later cascade from above) deletes their step runs in the same statement.
ALTER TABLE step_runs DROP CONSTRAINT step_runs_tenant_id_run_id_runs_tenant_id_id_fk;
--> statement-breakpoint
-- Per tenant, as step_runs' policies (forced on the owner too) see one tenant at a time; the
-- caller's tenant setting is put back.
CREATE FUNCTION roster_runs_delete_step_runs() RETURNS trigger
  LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_tenant uuid;
  v_caller text := current_setting('app.tenant_id', true);
BEGIN
  FOR v_tenant IN SELECT DISTINCT tenant_id FROM deleted_runs LOOP
    PERFORM set_config('app.tenant_id', v_tenant::text, true);
    DELETE FROM step_runs s USING deleted_runs d
     WHERE d.tenant_id = v_tenant AND s.tenant_id = v_tenant AND s.run_id = d.id;
  END LOOP;
  PERFORM set_config('app.tenant_id', coalesce(v_caller, ''), true);
  RETURN NULL;
END
$$;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_runs_delete_step_runs() FROM PUBLIC;
--> statement-breakpoint
CREATE TRIGGER runs_delete_step_runs AFTER DELETE ON runs
  REFERENCING OLD TABLE AS deleted_runs
  FOR EACH STATEMENT EXECUTE FUNCTION roster_runs_delete_step_runs();
