import type { Pool, PoolClient } from '@roster/db';

/** What a step sees of its run: state, input and the outputs of steps that succeeded. */
export interface RunContext {
  status: string;
  input: unknown;
  deadlineAt: string;
  startedAt: string | null;
  generation: number;
  steps: Record<string, { output: unknown }> | null;
}

/** One round trip (roster_engine_context sets the tenant context itself). */
export async function loadRunContext(
  pool: Pool | PoolClient,
  tenantId: string,
  runId: string,
  withSteps: boolean,
): Promise<RunContext | undefined> {
  const { rows } = await pool.query<{ context: RunContext | null }>({
    name: 'roster_engine_context',
    text: 'SELECT roster_engine_context($1, $2, $3) AS context',
    values: [tenantId, runId, withSteps],
  });
  return rows[0]?.context ?? undefined;
}

/** The scope expressions evaluate over. */
export function expressionScope(runId: string, context: RunContext | undefined) {
  return {
    input: context?.input ?? {},
    steps: context?.steps ?? {},
    run: { id: runId, startedAt: context?.startedAt ?? null },
  };
}
