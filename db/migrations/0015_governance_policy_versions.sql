-- Governance policy overrides per tenant (policies/governance.yaml holds the defaults): one row
-- per saved version, never updated, so the history is the table. The newest version is in force.
CREATE TABLE governance_policy_versions (
  tenant_id uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
  version integer NOT NULL CHECK (version >= 1),
  document jsonb NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  comment text,
  PRIMARY KEY (tenant_id, version)
);
--> statement-breakpoint
SELECT roster_enable_tenant_rls('governance_policy_versions');
--> statement-breakpoint
GRANT SELECT, INSERT ON governance_policy_versions TO roster_app;
