-- Auth: auth_user_tenants returns each tenant's created_at. The API listed the caller's tenants
-- (`viewer { tenants { tenant { createdAt } } }`) with 1970-01-01 as every tenant's creation,
-- because the function did not return it. A function's result columns cannot change in place:
-- dropped and created again, with 0003's owner, revoke and grant.
DROP FUNCTION auth_user_tenants(uuid);
--> statement-breakpoint
CREATE FUNCTION auth_user_tenants(p_user_id uuid)
  RETURNS TABLE (tenant_id uuid, slug text, name text, role text, created_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id, t.slug, t.name, m.role, t.created_at FROM memberships m JOIN tenants t ON t.id = m.tenant_id
   WHERE m.user_id = p_user_id ORDER BY t.name
$$;
--> statement-breakpoint
ALTER FUNCTION auth_user_tenants(uuid) OWNER TO roster_auth;
--> statement-breakpoint
REVOKE ALL ON FUNCTION auth_user_tenants(uuid) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION auth_user_tenants(uuid) TO roster_app;
