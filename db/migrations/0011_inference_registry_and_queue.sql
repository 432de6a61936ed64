-- Inference: model registry (content-addressed blobs), runner pools and runners, deployments,
-- the request queue that runners claim over /runner/v1, decisions and review thresholds.
CREATE TABLE model_blobs (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  sha256 text NOT NULL, -- lower-case hex, checked by the registry
  bytes bytea NOT NULL,
  size integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, sha256)
);
--> statement-breakpoint
CREATE TABLE models (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);
--> statement-breakpoint
CREATE TABLE model_versions (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  model_id uuid NOT NULL,
  version integer NOT NULL,
  sha256 text NOT NULL,
  size integer NOT NULL,
  signature jsonb NOT NULL,
  labels text[] NOT NULL,
  featurizer jsonb NOT NULL,
  metrics jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
  created_by uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, model_id, version),
  FOREIGN KEY (tenant_id, model_id) REFERENCES models (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, sha256) REFERENCES model_blobs (tenant_id, sha256)
);
--> statement-breakpoint
CREATE TABLE runner_pools (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  name text NOT NULL,
  -- sha-256 (hex) of the pool token; the token itself is shown once, at creation.
  token_hash text NOT NULL UNIQUE,
  providers text[] NOT NULL DEFAULT '{cpu}',
  max_batch integer NOT NULL DEFAULT 64 CHECK (max_batch > 0),
  max_queue_delay_ms double precision NOT NULL DEFAULT 2 CHECK (max_queue_delay_ms >= 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, name)
);
--> statement-breakpoint
CREATE TABLE runners (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  pool_id uuid NOT NULL,
  name text NOT NULL,
  version text NOT NULL DEFAULT '',
  capabilities jsonb NOT NULL DEFAULT '{}'::jsonb,
  in_flight integer NOT NULL DEFAULT 0,
  loaded_models text[] NOT NULL DEFAULT '{}',
  drain boolean NOT NULL DEFAULT false,
  registered_at timestamptz NOT NULL DEFAULT now(),
  last_heartbeat_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, pool_id) REFERENCES runner_pools (tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE TABLE deployments (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  model_id uuid NOT NULL,
  model_version_id uuid NOT NULL,
  pool_id uuid NOT NULL,
  stage text NOT NULL DEFAULT 'shadow' CHECK (stage IN ('live', 'canary', 'shadow')),
  traffic_share double precision CHECK (traffic_share IS NULL OR (traffic_share > 0 AND traffic_share <= 1)),
  -- CanaryThresholds (packages/inference rollout.ts) for automatic rollback.
  rollback jsonb NOT NULL DEFAULT '{}'::jsonb,
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'rolled_back', 'retired')),
  status_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  FOREIGN KEY (tenant_id, model_id) REFERENCES models (tenant_id, id) ON DELETE CASCADE,
  FOREIGN KEY (tenant_id, model_version_id) REFERENCES model_versions (tenant_id, id),
  FOREIGN KEY (tenant_id, pool_id) REFERENCES runner_pools (tenant_id, id)
);
--> statement-breakpoint
CREATE UNIQUE INDEX deployments_one_live ON deployments (tenant_id, model_id)
  WHERE stage = 'live' AND status = 'active';
--> statement-breakpoint
CREATE TABLE inference_requests (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  pool_id uuid NOT NULL,
  deployment_id uuid,
  model_version_id uuid NOT NULL,
  sha256 text NOT NULL,
  input jsonb NOT NULL,
  fingerprint text NOT NULL,
  -- Deduplicates enqueues of the same step attempt (a crashed worker repeats its executor call).
  request_key text,
  origin text NOT NULL DEFAULT 'infer' CHECK (origin IN ('decision', 'infer')),
  shadow boolean NOT NULL DEFAULT false,
  run_id uuid,
  step_id text,
  workflow_id uuid,
  thresholds jsonb,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'leased', 'done', 'failed')),
  lease_owner uuid,
  lease_expires_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5,
  deadline_at timestamptz NOT NULL,
  result jsonb,
  error jsonb,
  runner_id uuid,
  latency_ms double precision,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, request_key),
  FOREIGN KEY (tenant_id, pool_id) REFERENCES runner_pools (tenant_id, id) ON DELETE CASCADE
);
--> statement-breakpoint
CREATE INDEX inference_requests_claimable ON inference_requests (tenant_id, pool_id, created_at)
  WHERE status IN ('pending', 'leased');
--> statement-breakpoint
CREATE INDEX inference_requests_step ON inference_requests (tenant_id, run_id, step_id) WHERE run_id IS NOT NULL;
--> statement-breakpoint
CREATE INDEX inference_requests_deployment ON inference_requests (tenant_id, deployment_id, status);
--> statement-breakpoint
CREATE TABLE decisions (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL,
  step_id text NOT NULL,
  request_id uuid NOT NULL,
  deployment_id uuid,
  model_version_id uuid NOT NULL,
  label text NOT NULL,
  confidence double precision NOT NULL,
  scores jsonb NOT NULL,
  fingerprint text NOT NULL,
  latency_ms double precision,
  runner_id uuid,
  threshold double precision NOT NULL,
  auto_decided boolean NOT NULL,
  review_task_id uuid,
  human_label text,
  reviewed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id),
  UNIQUE (tenant_id, run_id, step_id)
);
--> statement-breakpoint
-- Review thresholds per workflow (workflow_id NULL: the tenant's default), overridden per label.
CREATE TABLE decision_policies (
  tenant_id uuid NOT NULL REFERENCES tenants(id),
  id uuid NOT NULL DEFAULT gen_random_uuid(),
  workflow_id uuid,
  default_threshold double precision NOT NULL CHECK (default_threshold >= 0 AND default_threshold <= 1),
  per_label jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
--> statement-breakpoint
CREATE UNIQUE INDEX decision_policies_scope ON decision_policies
  (tenant_id, coalesce(workflow_id, '00000000-0000-0000-0000-000000000000'::uuid));
--> statement-breakpoint
SELECT roster_enable_tenant_rls('model_blobs');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('models');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('model_versions');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('runner_pools');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('runners');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('deployments');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('inference_requests');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('decisions');
--> statement-breakpoint
SELECT roster_enable_tenant_rls('decision_policies');
--> statement-breakpoint
GRANT SELECT, INSERT ON model_blobs TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE ON models, model_versions, runner_pools, deployments, decisions, decision_policies TO roster_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON runners, inference_requests TO roster_app;
--> statement-breakpoint
-- A runner presents only its pool token: this resolves it to (tenant, pool) before any tenant
-- context exists (docs/decisions/0006). roster_auth reads runner_pools through a narrow policy.
GRANT SELECT ON runner_pools TO roster_auth;
--> statement-breakpoint
CREATE POLICY runner_pools_auth_select ON runner_pools FOR SELECT TO roster_auth USING (true);
--> statement-breakpoint
CREATE FUNCTION auth_runner_pool(p_token_hash text)
  RETURNS TABLE (tenant_id uuid, pool_id uuid, providers text[], max_batch integer, max_queue_delay_ms double precision)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT p.tenant_id, p.id, p.providers, p.max_batch, p.max_queue_delay_ms
    FROM runner_pools p WHERE p.token_hash = p_token_hash
$$;
--> statement-breakpoint
ALTER FUNCTION auth_runner_pool(text) OWNER TO roster_auth;
--> statement-breakpoint
REVOKE ALL ON FUNCTION auth_runner_pool(text) FROM PUBLIC;
--> statement-breakpoint
GRANT EXECUTE ON FUNCTION auth_runner_pool(text) TO roster_app;
