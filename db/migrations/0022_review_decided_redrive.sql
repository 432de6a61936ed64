-- A review answer commits before the run resumes (the engine's own transaction). decided_at marks
-- when; the answer's resume payload is kept in result (the engine overwrites it when it closes the
-- task). The SLA tick re-drives answers whose resume did not happen (the process stopped between
-- the two commits), so it lists their tenants too.
ALTER TABLE review_tasks ADD COLUMN decided_at timestamptz;
--> statement-breakpoint
CREATE INDEX review_tasks_decided_idx ON review_tasks (decided_at) WHERE status = 'open' AND outcome IS NOT NULL;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION roster_engine_review_sla_tenants(p_now timestamptz, p_limit int)
  RETURNS TABLE (tenant_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT t.tenant_id FROM review_tasks t
   WHERE t.status = 'open'
     AND (NOT t.sla_stamped OR t.sla_due_at <= p_now
          OR (t.outcome IS NOT NULL AND t.decided_at <= p_now - interval '1 minute'))
   LIMIT p_limit
$$;
