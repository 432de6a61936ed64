-- Engine: the functions on a step's hot path plan their statements once per session.
-- Postgres plans a PL/pgSQL statement with its parameter values (a custom plan) for its first
-- five runs, then keeps the generic plan only if its estimated cost is no worse. For the
-- engine's statements, all of them lookups by key under the tenant's RLS policy, it kept choosing
-- custom plans, so most statements were planned again on every call. Profiled with perf on the
-- 10-step bench, planning was about an eighth of Postgres's time. Forcing the generic plan in
-- these functions, and in what they call (triggers, roster_engine_enqueue), cut Postgres's CPU per
-- step by 15–25% in three paired runs.
-- A later CREATE OR REPLACE of one of these functions must repeat this SET clause: a function's
-- SET clauses are replaced with it.
ALTER FUNCTION roster_engine_transition(jsonb) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION roster_engine_transitions(jsonb) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION roster_engine_context(uuid, uuid, boolean) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION roster_engine_flow_context(uuid, uuid, text[], text) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION roster_engine_start_runs(uuid, jsonb, int) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION roster_engine_admit(uuid, int) SET plan_cache_mode = force_generic_plan;
--> statement-breakpoint
ALTER FUNCTION roster_engine_job_done(jsonb, boolean, text) SET plan_cache_mode = force_generic_plan;
