import type { Pool } from '@roster/db';
import { type Frame, visibleSteps } from './flow-keys.js';
import type { RunContext } from './run-context.js';

/** A RunContext plus the markers of the branches and iterations a step instance runs in. */
export interface FlowContext extends RunContext {
  markers: Record<string, { status: string; generation: number; state: unknown }>;
}

/** One round trip (roster_engine_flow_context sets the tenant context itself). */
export async function loadFlowContext(
  pool: Pool,
  tenantId: string,
  runId: string,
  markers: string[],
  path: readonly number[],
): Promise<FlowContext | undefined> {
  const { rows } = await pool.query<{ context: FlowContext | null }>({
    name: 'roster_engine_flow_context',
    text: 'SELECT roster_engine_flow_context($1, $2, $3, $4) AS context',
    values: [tenantId, runId, markers, path.join('.')],
  });
  return rows[0]?.context ?? undefined;
}

/** Whether every branch and iteration around the step is still running in this generation. */
export function framesLive(context: FlowContext, frames: Frame[], generation: number): boolean {
  return frames.every((f) => {
    const marker = context.markers[f.marker];
    return marker?.status === 'running' && marker.generation === generation;
  });
}

/**
 * The scope expressions evaluate over: `input`, `run`, the `steps` visible at this instance's
 * iteration path, and inside a map iteration its `item` and `index` (the innermost map's).
 */
export function flowScope(
  runId: string,
  context: RunContext | FlowContext | undefined,
  path: readonly number[],
  frames: Frame[] = [],
): Record<string, unknown> {
  const scope: Record<string, unknown> = {
    input: context?.input ?? {},
    steps: visibleSteps(context?.steps, path),
    run: { id: runId, startedAt: context?.startedAt ?? null },
  };
  const iteration = frames.find((f) => f.kind === 'iteration');
  if (iteration && context && 'markers' in context) {
    const state = context.markers[iteration.marker]?.state as { item?: unknown } | null;
    scope.item = state?.item ?? null;
    scope.index = iteration.member;
  }
  return scope;
}
