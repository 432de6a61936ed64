-- Roles, tenant row-level security and grants. Hand-written: drizzle-kit cannot express them.
--
-- roster_app is the runtime role: it logs in (its password is set by the migration runner, never
-- stored here), cannot bypass RLS, owns nothing, and gets only the grants below.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roster_app') THEN
    CREATE ROLE roster_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOINHERIT;
  END IF;
END
$$;
--> statement-breakpoint
REVOKE ALL ON SCHEMA public FROM PUBLIC;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO roster_app;
--> statement-breakpoint
-- The tenant of the current transaction, or NULL when none is set (fail closed: NULL matches no
-- row). After a transaction-local set_config a pooled connection reads the setting back as ''.
CREATE FUNCTION roster_current_tenant() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT nullif(current_setting('app.tenant_id', true), '')::uuid $$;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_current_tenant() TO roster_app;
--> statement-breakpoint
-- Every tenant-owned table calls this once: RLS enabled AND forced (owners too), and one policy
-- per command keyed on tenant_id. The isolation suite (packages/db) checks every such table.
CREATE FUNCTION roster_enable_tenant_rls(tbl regclass, tenant_column text DEFAULT 'tenant_id') RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  name text := (SELECT relname FROM pg_class WHERE oid = tbl);
  cond text := format('%I = roster_current_tenant()', tenant_column);
BEGIN
  EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);
  EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', tbl);
  EXECUTE format('CREATE POLICY %I ON %s FOR SELECT USING (%s)', name || '_tenant_select', tbl, cond);
  EXECUTE format('CREATE POLICY %I ON %s FOR INSERT WITH CHECK (%s)', name || '_tenant_insert', tbl, cond);
  EXECUTE format('CREATE POLICY %I ON %s FOR UPDATE USING (%s) WITH CHECK (%s)', name || '_tenant_update', tbl, cond, cond);
  EXECUTE format('CREATE POLICY %I ON %s FOR DELETE USING (%s)', name || '_tenant_delete', tbl, cond);
END
$$;
--> statement-breakpoint
SELECT roster_enable_tenant_rls('tenants', 'id');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('memberships');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('api_keys');
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON tenants TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON memberships TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON api_keys TO roster_app;
--> statement-breakpoint
-- users is global (one person, many tenants). The runtime role may create and update people,
-- and read a person only through memberships of the current tenant (policy below) or through the
-- SECURITY DEFINER sign-in functions that later migrations add.
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE users FORCE ROW LEVEL SECURITY;
--> statement-breakpoint
CREATE POLICY users_member_select ON users FOR SELECT
  USING (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = roster_current_tenant()));
--> statement-breakpoint
CREATE POLICY users_insert ON users FOR INSERT WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY users_member_update ON users FOR UPDATE
  USING (EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.tenant_id = roster_current_tenant()));
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON users TO roster_app;
