-- Identity and workflow tables: tenant RLS, grants, version immutability, and the auth functions.
SELECT roster_enable_tenant_rls('invitations');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('workflows');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('workflow_versions');
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON invitations TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON workflows TO roster_app;
--> statement-breakpoint
-- Versions are immutable: no UPDATE or DELETE grant, and a trigger for everyone else.
GRANT SELECT, INSERT ON workflow_versions TO roster_app;
--> statement-breakpoint
CREATE FUNCTION roster_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
CREATE TRIGGER workflow_versions_immutable BEFORE UPDATE OR DELETE ON workflow_versions
  FOR EACH ROW EXECUTE FUNCTION roster_refuse_change();
--> statement-breakpoint
-- Global tables that the runtime role never touches directly: RLS on with no policy for it, no grants.
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
ALTER TABLE login_attempts ENABLE ROW LEVEL SECURITY;
--> statement-breakpoint
-- roster_auth owns the SECURITY DEFINER functions that authentication needs before any tenant is
-- known. It cannot log in and cannot bypass RLS: narrow policies below let it read exactly what
-- those functions read.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'roster_auth') THEN
    CREATE ROLE roster_auth NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
  END IF;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO roster_auth;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO roster_auth;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON login_attempts TO roster_auth;
--> statement-breakpoint
GRANT SELECT ON users, memberships, api_keys, invitations, tenants TO roster_auth;
--> statement-breakpoint
CREATE POLICY sessions_auth ON sessions TO roster_auth USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY login_attempts_auth ON login_attempts TO roster_auth USING (true) WITH CHECK (true);
--> statement-breakpoint
CREATE POLICY users_auth_select ON users FOR SELECT TO roster_auth USING (true);
--> statement-breakpoint
CREATE POLICY memberships_auth_select ON memberships FOR SELECT TO roster_auth USING (true);
--> statement-breakpoint
CREATE POLICY api_keys_auth_select ON api_keys FOR SELECT TO roster_auth USING (true);
--> statement-breakpoint
CREATE POLICY invitations_auth_select ON invitations FOR SELECT TO roster_auth USING (true);
--> statement-breakpoint
CREATE POLICY tenants_auth_select ON tenants FOR SELECT TO roster_auth USING (true);
--> statement-breakpoint
CREATE FUNCTION auth_session(p_token_hash text)
  RETURNS TABLE (session_id uuid, user_id uuid, tenant_id uuid, role text, expires_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT s.id, s.user_id, s.active_tenant_id, m.role, s.expires_at
    FROM sessions s JOIN memberships m ON m.user_id = s.user_id AND m.tenant_id = s.active_tenant_id
   WHERE s.token_hash = p_token_hash AND s.expires_at > now()
$$;
--> statement-breakpoint
CREATE FUNCTION auth_create_session(p_user_id uuid, p_tenant_id uuid, p_token_hash text, p_expires_at timestamptz)
  RETURNS uuid LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  new_id uuid;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM memberships WHERE user_id = p_user_id AND tenant_id = p_tenant_id) THEN
    RETURN NULL;
  END IF;
  INSERT INTO sessions (user_id, active_tenant_id, token_hash, expires_at)
    VALUES (p_user_id, p_tenant_id, p_token_hash, p_expires_at) RETURNING id INTO new_id;
  DELETE FROM sessions WHERE user_id = p_user_id AND expires_at < now();
  RETURN new_id;
END
$$;
--> statement-breakpoint
CREATE FUNCTION auth_delete_session(p_token_hash text) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  DELETE FROM sessions WHERE token_hash = p_token_hash;
  RETURN FOUND;
END
$$;
--> statement-breakpoint
CREATE FUNCTION auth_switch_tenant(p_token_hash text, p_tenant_id uuid) RETURNS text
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  new_role text;
BEGIN
  SELECT m.role INTO new_role FROM sessions s
    JOIN memberships m ON m.user_id = s.user_id AND m.tenant_id = p_tenant_id
   WHERE s.token_hash = p_token_hash AND s.expires_at > now();
  IF new_role IS NULL THEN
    RETURN NULL;
  END IF;
  UPDATE sessions SET active_tenant_id = p_tenant_id WHERE token_hash = p_token_hash;
  RETURN new_role;
END
$$;
--> statement-breakpoint
CREATE FUNCTION auth_user_for_sign_in(p_email text) RETURNS TABLE (user_id uuid, password_hash text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT id, password_hash FROM users WHERE lower(email) = lower(p_email)
$$;
--> statement-breakpoint
CREATE FUNCTION auth_user_tenants(p_user_id uuid) RETURNS TABLE (tenant_id uuid, slug text, name text, role text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT t.id, t.slug, t.name, m.role FROM memberships m JOIN tenants t ON t.id = m.tenant_id
   WHERE m.user_id = p_user_id ORDER BY t.name
$$;
--> statement-breakpoint
CREATE FUNCTION auth_api_key(p_prefix text)
  RETURNS TABLE (tenant_id uuid, key_id uuid, secret_hash text, scopes text[], expires_at timestamptz,
                 revoked_at timestamptz, last_used_at timestamptz, creator_id uuid, creator_role text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT k.tenant_id, k.id, k.secret_hash, k.scopes, k.expires_at, k.revoked_at, k.last_used_at, k.created_by, m.role
    FROM api_keys k LEFT JOIN memberships m ON m.tenant_id = k.tenant_id AND m.user_id = k.created_by
   WHERE k.prefix = p_prefix
$$;
--> statement-breakpoint
-- Counts one attempt for p_key in the current window; true while the count is within p_max.
CREATE FUNCTION auth_login_attempt(p_key text, p_window_seconds int, p_max int) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  win timestamptz := to_timestamp(floor(extract(epoch FROM now()) / p_window_seconds) * p_window_seconds);
  n int;
BEGIN
  INSERT INTO login_attempts (key, window_start, attempts) VALUES (p_key, win, 1)
    ON CONFLICT (key, window_start) DO UPDATE SET attempts = login_attempts.attempts + 1
    RETURNING attempts INTO n;
  RETURN n <= p_max;
END
$$;
--> statement-breakpoint
CREATE FUNCTION auth_invitation(p_token_hash text)
  RETURNS TABLE (tenant_id uuid, invitation_id uuid, email text, role text, expires_at timestamptz,
                 accepted_at timestamptz, revoked_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT tenant_id, id, email, role, expires_at, accepted_at, revoked_at FROM invitations WHERE token_hash = p_token_hash
$$;
--> statement-breakpoint
ALTER FUNCTION auth_session(text) OWNER TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_create_session(uuid, uuid, text, timestamptz) OWNER TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_delete_session(text) OWNER TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_switch_tenant(text, uuid) OWNER TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_user_for_sign_in(text) OWNER TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_user_tenants(uuid) OWNER TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_api_key(text) OWNER TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_login_attempt(text, int, int) OWNER TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_invitation(text) OWNER TO roster_auth;
--> statement-breakpoint
REVOKE ALL ON FUNCTION auth_session(text), auth_create_session(uuid, uuid, text, timestamptz), auth_delete_session(text),
  auth_switch_tenant(text, uuid), auth_user_for_sign_in(text), auth_user_tenants(uuid), auth_api_key(text),
  auth_login_attempt(text, int, int), auth_invitation(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION auth_session(text), auth_create_session(uuid, uuid, text, timestamptz), auth_delete_session(text),
  auth_switch_tenant(text, uuid), auth_user_for_sign_in(text), auth_user_tenants(uuid), auth_api_key(text),
  auth_login_attempt(text, int, int), auth_invitation(text) TO roster_app;
