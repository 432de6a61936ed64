-- Tasks without a role (decision reviews, steps that name none) go to the 'reviewer' queue: the
-- queue members with the reviewer role serve by default (a member serves the queue named after
-- their role), rather than 'reviewers', which nobody served until an admin added members.
CREATE OR REPLACE FUNCTION roster_review_task_filing() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.queue := coalesce(NEW.queue, NEW.role, 'reviewer');
  ELSIF NEW.status = 'open' AND OLD.status <> 'open' THEN
    NEW.queue := coalesce(NEW.role, 'reviewer');
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
UPDATE review_tasks SET queue = 'reviewer' WHERE queue = 'reviewers' AND role IS NULL;
