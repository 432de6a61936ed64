-- A successful sign-in clears the account's failed-attempt count, so the limit counts wrong
-- passwords, not people who sign in often. The per-IP count is left alone.
CREATE FUNCTION auth_sign_in_succeeded(p_account_key text) RETURNS void
  LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
  DELETE FROM login_attempts WHERE key = p_account_key
$$;
--> statement-breakpoint
GRANT DELETE ON login_attempts TO roster_auth;
--> statement-breakpoint
ALTER FUNCTION auth_sign_in_succeeded(text) OWNER TO roster_auth;
--> statement-breakpoint
REVOKE ALL ON FUNCTION auth_sign_in_succeeded(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION auth_sign_in_succeeded(text) TO roster_app;
