-- The review product (issue #7): queues with SLAs and tiers, claims, four-eyes approvals,
-- comments, delegations, and the escalation outbox. review_tasks rows are still inserted by the
-- engine and inference (a minimal row); a trigger files each into its queue (the step's role, or
-- 'reviewers'). SLA due times are computed in business hours by the worker's SLA tick (luxon, in
-- TypeScript) and stamped on the task; see docs/decisions for why not in SQL.
CREATE TABLE review_settings (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  time_zone text NOT NULL DEFAULT 'UTC',
  work_days integer[] NOT NULL DEFAULT '{1,2,3,4,5}',
  day_start text NOT NULL DEFAULT '09:00',
  day_end text NOT NULL DEFAULT '17:00',
  holidays date[] NOT NULL DEFAULT '{}',
  claim_minutes integer NOT NULL DEFAULT 30 CHECK (claim_minutes BETWEEN 1 AND 1440),
  escalation_workflow_id uuid,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT review_settings_pk PRIMARY KEY (tenant_id)
);
--> statement-breakpoint
CREATE TABLE review_queues (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  name text NOT NULL,
  sla_minutes integer CHECK (sla_minutes IS NULL OR sla_minutes > 0),
  four_eyes boolean NOT NULL DEFAULT false,
  escalate_to text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT review_queues_pk PRIMARY KEY (tenant_id, name),
  CONSTRAINT review_queues_name_check CHECK (name ~ '^[a-z0-9][a-z0-9:._-]{0,63}$')
);
--> statement-breakpoint
CREATE TABLE review_queue_members (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  queue text NOT NULL,
  member_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT review_queue_members_pk PRIMARY KEY (tenant_id, queue, member_id),
  CONSTRAINT review_queue_members_queue_fk FOREIGN KEY (tenant_id, queue) REFERENCES review_queues(tenant_id, name) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX review_queue_members_member_idx ON review_queue_members (tenant_id, member_id);
--> statement-breakpoint
ALTER TABLE review_tasks
  ADD COLUMN queue text,
  ADD COLUMN assignee_id uuid,
  ADD COLUMN claim_expires_at timestamptz,
  ADD COLUMN sla_stamped boolean NOT NULL DEFAULT false,
  ADD COLUMN sla_due_at timestamptz,
  ADD COLUMN escalation_level integer NOT NULL DEFAULT 0,
  ADD COLUMN escalated_at timestamptz,
  ADD COLUMN outcome text,
  ADD COLUMN corrected_output jsonb,
  ADD COLUMN decided_by uuid;
--> statement-breakpoint
UPDATE review_tasks SET queue = coalesce(role, 'reviewers') WHERE queue IS NULL;
--> statement-breakpoint
CREATE INDEX review_tasks_queue_idx ON review_tasks (tenant_id, queue, status, created_at);
--> statement-breakpoint
CREATE INDEX review_tasks_sla_idx ON review_tasks (sla_due_at) WHERE status = 'open';
--> statement-breakpoint
CREATE TABLE review_approvals (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  task_id uuid NOT NULL,
  member_id uuid NOT NULL,
  on_behalf_of uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT review_approvals_pk PRIMARY KEY (tenant_id, task_id, member_id),
  CONSTRAINT review_approvals_task_fk FOREIGN KEY (tenant_id, task_id) REFERENCES review_tasks(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE review_comments (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  author_id uuid NOT NULL,
  on_behalf_of uuid,
  body text NOT NULL CHECK (length(body) BETWEEN 1 AND 10000),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT review_comments_pk PRIMARY KEY (tenant_id, id),
  CONSTRAINT review_comments_task_fk FOREIGN KEY (tenant_id, task_id) REFERENCES review_tasks(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX review_comments_task_idx ON review_comments (tenant_id, task_id, created_at);
--> statement-breakpoint
-- A delegator's tasks (all of them, or one task) handled by the delegate from starts_at to ends_at
-- (period and people are checked by @roster/governance's validateDelegation).
CREATE TABLE review_delegations (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  delegator_id uuid NOT NULL,
  delegate_id uuid NOT NULL,
  task_id uuid,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  revoked_at timestamptz,
  created_by uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT review_delegations_pk PRIMARY KEY (tenant_id, id),
  CONSTRAINT review_delegations_task_fk FOREIGN KEY (tenant_id, task_id) REFERENCES review_tasks(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX review_delegations_delegate_idx ON review_delegations (tenant_id, delegate_id, ends_at);
--> statement-breakpoint
-- The escalation outbox: one row per (task, escalation level). The SLA tick writes it in the
-- transaction that reassigns the task, and starts the tenant's escalation workflow (whose
-- connector step posts to Slack or e-mail) with the row's id as idempotency key.
CREATE TABLE review_notifications (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  task_id uuid NOT NULL,
  kind text NOT NULL,
  level integer NOT NULL,
  from_queue text NOT NULL,
  to_queue text,
  run_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT review_notifications_pk PRIMARY KEY (tenant_id, id),
  CONSTRAINT review_notifications_once UNIQUE (tenant_id, task_id, kind, level),
  CONSTRAINT review_notifications_task_fk FOREIGN KEY (tenant_id, task_id) REFERENCES review_tasks(tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('review_settings');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('review_queues');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('review_queue_members');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('review_approvals');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('review_comments');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('review_delegations');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('review_notifications');
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON review_settings, review_queues TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, DELETE ON review_queue_members, review_approvals TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT ON review_comments, review_notifications TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE (revoked_at) ON review_delegations TO roster_app;
--> statement-breakpoint
-- A task opened (or re-opened by a retried step) lands in its queue unclaimed, undecided and
-- without approvals; SLA stamping starts over.
CREATE FUNCTION roster_review_task_filing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.queue := coalesce(NEW.queue, NEW.role, 'reviewers');
  ELSIF NEW.status = 'open' AND OLD.status <> 'open' THEN
    NEW.queue := coalesce(NEW.role, 'reviewers');
    NEW.assignee_id := NULL;
    NEW.claim_expires_at := NULL;
    NEW.sla_stamped := false;
    NEW.sla_due_at := NULL;
    NEW.escalation_level := 0;
    NEW.escalated_at := NULL;
    NEW.outcome := NULL;
    NEW.corrected_output := NULL;
    NEW.decided_by := NULL;
    DELETE FROM review_approvals WHERE tenant_id = NEW.tenant_id AND task_id = NEW.id;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER review_tasks_filing BEFORE INSERT OR UPDATE ON review_tasks
  FOR EACH ROW EXECUTE FUNCTION roster_review_task_filing();
--> statement-breakpoint
GRANT SELECT ON review_tasks TO roster_engine;
--> statement-breakpoint
CREATE POLICY review_tasks_engine_select ON review_tasks FOR SELECT TO roster_engine USING (true);
--> statement-breakpoint
-- Tenants with open tasks the SLA tick has to look at (not yet stamped, or past due): ids only.
CREATE FUNCTION roster_engine_review_sla_tenants(p_now timestamptz, p_limit int)
  RETURNS TABLE (tenant_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT DISTINCT t.tenant_id FROM review_tasks t
   WHERE t.status = 'open' AND (NOT t.sla_stamped OR t.sla_due_at <= p_now)
   LIMIT p_limit
$$;
--> statement-breakpoint
ALTER FUNCTION roster_engine_review_sla_tenants(timestamptz, int) OWNER TO roster_engine;
--> statement-breakpoint
REVOKE ALL ON FUNCTION roster_engine_review_sla_tenants(timestamptz, int) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION roster_engine_review_sla_tenants(timestamptz, int) TO roster_app;
