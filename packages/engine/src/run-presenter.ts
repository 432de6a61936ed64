import { getStep, type WorkflowDefinition } from '@roster/core';
import { type Pool, withTenant } from '@roster/db';
import { loadDefinition, sharedDefinitions } from './definitions.js';
import { EngineError } from './errors.js';
import { type Frame, framesOf, parseRowKey } from './flow-keys.js';
import { initiatorView, type RunInitiatorView } from './run-initiator.js';

/**
 * What a timeline entry is: a step instance, or one branch of a parallel step or one iteration of
 * a map step (the engine's marker rows, holding the branch's or iteration's status and output).
 */
export type TimelineEntryKind = 'step' | 'branch' | 'iteration';

export interface StepTimelineEntry {
  /**
   * The entry's key: a step's id, `<step>@<item indexes>` for an instance inside map iterations,
   * `<parallel>#<branch>` for a branch, `<map>#<index>` for an iteration.
   */
  stepId: string;
  kind: TimelineEntryKind;
  /** The step's id in the definition (`post` for `post@3`; the parallel or map step for a branch or iteration). */
  definitionStepId: string;
  /**
   * The entry this one is grouped under: a step in a branch or iteration under that branch's or
   * iteration's entry (`fork#a`, `each#3`), a branch or iteration under its parallel or map step;
   * null at the top level.
   */
  parentId: string | null;
  /** The branch name: of a branch entry, or of the innermost branch a step runs in; else null. */
  branch: string | null;
  /** The item index: of an iteration entry, or of the innermost iteration a step runs in; else null. */
  iteration: number | null;
  status: string;
  attempt: number;
  attempts: Array<{ attempt: number; code: string; message: string; at: string }>;
  output: unknown;
  error: { code: string; message: string } | null;
  wakeAt: Date | null;
  startedAt: Date;
  finishedAt: Date | null;
}

/**
 * What a queued run waits for: a slot of its tenant (`maxRunsPerTenant`, taken in queue order),
 * or a slot of its workflow (`concurrency.maxRuns`) or of its concurrency key (`maxRunsPerKey`),
 * which admission found full and parked the run for. Null unless the run is queued.
 */
export type QueueReason = 'tenant' | 'workflow' | 'key';

/** A run's queue reason from its status and its `parked_on` column. */
export function queueReason(status: string, parkedOn: string | null): QueueReason | null {
  if (status !== 'queued') return null;
  return parkedOn === 'workflow' || parkedOn === 'key' ? parkedOn : 'tenant';
}

/** The value of a run's concurrency key (stored as canonical JSON text), or null without one. */
export function concurrencyKeyValue(stored: string | null): unknown {
  return stored === null ? null : JSON.parse(stored);
}

export interface RunView {
  id: string;
  workflowId: string;
  version: number;
  status: string;
  input: unknown;
  output: unknown;
  error: { code: string; message: string } | null;
  failedStep: string | null;
  idempotencyKey: string | null;
  generation: number;
  /** While queued, what the run waits for; null otherwise. */
  queuedFor: QueueReason | null;
  /** The run's concurrency key value, when its workflow has `concurrency.key`; else null. */
  concurrencyKey: unknown;
  deadlineAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Who or what started the run. */
  startedBy: RunInitiatorView;
  /** Step instances, branches and iterations (see `kind`), in the order they started. */
  steps: StepTimelineEntry[];
}

/** A run with its step timeline. */
export async function getRun(pool: Pool, tenantId: string, runId: string): Promise<RunView> {
  return withTenant(pool, tenantId, async ({ client }) => {
    const run = await client.query(
      `SELECT id, workflow_id, workflow_version, status, input, output, error, failed_step, idempotency_key,
              generation, deadline_at, created_at, started_at, finished_at,
              created_by, started_by_kind, started_by_id, parked_on, concurrency_key
         FROM runs WHERE tenant_id = $1 AND id = $2`,
      [tenantId, runId],
    );
    const r = run.rows[0];
    if (!r)
      throw new EngineError('NOT_FOUND', `Run ${runId} does not exist in this tenant.`, { runId });
    const steps = await client.query(
      `SELECT step_id, status, attempt, attempts, output, error, wake_at, started_at, finished_at
         FROM step_runs WHERE tenant_id = $1 AND run_id = $2 ORDER BY started_at, step_id`,
      [tenantId, runId],
    );
    // Marker rows (`<owner>#<branch|index>`) are branches and iterations: a run that has any
    // fanned out, and needs its definition to place its entries.
    const definition = steps.rows.some((s) => s.step_id.includes('#'))
      ? (
          await loadDefinition(
            client,
            sharedDefinitions,
            tenantId,
            r.workflow_id,
            r.workflow_version,
          )
        ).definition
      : null;
    return {
      id: r.id,
      workflowId: r.workflow_id,
      version: r.workflow_version,
      status: r.status,
      input: r.input,
      output: r.output,
      error: r.error,
      failedStep: r.failed_step,
      idempotencyKey: r.idempotency_key,
      generation: r.generation,
      queuedFor: queueReason(r.status, r.parked_on),
      concurrencyKey: concurrencyKeyValue(r.concurrency_key),
      deadlineAt: r.deadline_at,
      createdAt: r.created_at,
      startedAt: r.started_at,
      finishedAt: r.finished_at,
      startedBy: initiatorView(r),
      steps: steps.rows.map((s) => ({
        stepId: s.step_id,
        ...placement(definition, s.step_id),
        status: s.status,
        attempt: s.attempt,
        attempts: s.attempts,
        output: s.output,
        error: s.error,
        wakeAt: s.wake_at,
        startedAt: s.started_at,
        finishedAt: s.finished_at,
      })),
    };
  });
}

type Placement = Pick<
  StepTimelineEntry,
  'kind' | 'definitionStepId' | 'parentId' | 'branch' | 'iteration'
>;

/** What a step_runs row is and where it sits: its step, its parent entry, branch and iteration. */
function placement(definition: WorkflowDefinition | null, rowKey: string): Placement {
  const hash = rowKey.lastIndexOf('#');
  if (hash >= 0) {
    // A marker: `<owner row key>#<branch name | item index>`.
    const ownerKey = rowKey.slice(0, hash);
    const member = rowKey.slice(hash + 1);
    const owner = parseRowKey(ownerKey).stepId;
    const type = definition ? stepType(definition, owner) : undefined;
    const isMap = type === 'map';
    return {
      kind: isMap ? 'iteration' : 'branch',
      definitionStepId: owner,
      parentId: ownerKey,
      branch: isMap ? null : member,
      iteration: isMap ? Number(member) : null,
    };
  }
  const { stepId, path } = parseRowKey(rowKey);
  let frames: Frame[] | undefined;
  try {
    frames = definition ? framesOf(definition, stepId, path) : [];
  } catch {
    frames = undefined; // A row the definition does not know (hand-made): shown unplaced.
  }
  const branch = frames?.find((f) => f.kind === 'branch');
  const iteration = frames?.find((f) => f.kind === 'iteration');
  return {
    kind: 'step',
    definitionStepId: stepId,
    parentId: frames?.[0]?.marker ?? null,
    branch: branch ? String(branch.member) : null,
    iteration: iteration ? Number(iteration.member) : null,
  };
}

function stepType(definition: WorkflowDefinition, stepId: string): string | undefined {
  try {
    return getStep(definition, stepId).step.type;
  } catch {
    return undefined;
  }
}

export interface DeadLetter {
  runId: string;
  workflowId: string;
  version: number;
  failedStep: string | null;
  error: { code: string; message: string } | null;
  deadLetteredAt: Date;
}

/** The tenant's dead-lettered runs, newest first (page with `before`, a deadLetteredAt). */
export async function listDeadLetters(
  pool: Pool,
  tenantId: string,
  options: { limit?: number; before?: Date } = {},
): Promise<DeadLetter[]> {
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 500);
  return withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query(
      `SELECT id, workflow_id, workflow_version, failed_step, error, updated_at FROM runs
        WHERE tenant_id = $1 AND status = 'dead_lettered' AND ($2::timestamptz IS NULL OR updated_at < $2)
        ORDER BY updated_at DESC, id LIMIT $3`,
      [tenantId, options.before ?? null, limit],
    );
    return rows.map((r) => ({
      runId: r.id,
      workflowId: r.workflow_id,
      version: r.workflow_version,
      failedStep: r.failed_step,
      error: r.error,
      deadLetteredAt: r.updated_at,
    }));
  });
}
