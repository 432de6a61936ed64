-- Engine: the admission sweep finds the tenants with queued runs with one index probe per tenant.
-- 0005's `SELECT DISTINCT tenant_id FROM runs WHERE status = 'queued'` read every queued run
-- through runs_queued_idx, every second in every worker pool: O(queued runs), 10,000 entries a
-- second while one tenant floods 10,000 runs, and more with the parked backlogs of 0032. A loose
-- index scan (a recursive CTE that jumps to the next tenant_id in runs_queued_idx) reads one
-- entry per tenant. Parked runs still count: the sweep unparks them (0035). Owner, grants and
-- SECURITY DEFINER stay as 0005 set them.
CREATE OR REPLACE FUNCTION roster_engine_queued_tenants() RETURNS TABLE (tenant_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  WITH RECURSIVE t AS (
    (SELECT r.tenant_id FROM runs r WHERE r.status = 'queued' ORDER BY r.tenant_id LIMIT 1)
    UNION ALL
    SELECT nxt.tenant_id FROM t CROSS JOIN LATERAL (
      SELECT r.tenant_id FROM runs r
       WHERE r.status = 'queued' AND r.tenant_id > t.tenant_id
       ORDER BY r.tenant_id LIMIT 1) nxt)
  SELECT t.tenant_id FROM t
$$;
