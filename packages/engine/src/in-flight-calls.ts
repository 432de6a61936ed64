import { StepFailure } from './errors.js';
import { markerOwner } from './flow-keys.js';

/**
 * A stop as a `roster_run_stopped` notification names it: a run's end, `<tenantId>:<runId>:<status>`,
 * or a parallel or map step that settled with branches or iterations still live,
 * `<tenantId>:<runId>:cut:<ownerKey>` (only the calls inside that step stop).
 */
export interface RunStop {
  tenantId: string;
  runId: string;
  status: string;
  /** The settled parallel or map step's key (`rowKey`), when only its calls stop. */
  scope?: string;
}

/** The channel stops are announced on (migration 0040's trigger, and flow-commit's stopFanOut). */
export const RUN_STOPPED_CHANNEL = 'roster_run_stopped';

/** Reads a `roster_run_stopped` payload; undefined for anything else. */
export function parseRunStop(payload: string | undefined): RunStop | undefined {
  const [tenantId, runId, status, scope, ...rest] = (payload ?? '').split(':');
  if (!tenantId || !runId || !status || rest.length > 0) return undefined;
  if (status === 'cut') return scope ? { tenantId, runId, status, scope } : undefined;
  return scope === undefined ? { tenantId, runId, status } : undefined;
}

/**
 * The connector and decision calls this worker has in flight, by run, so that a run that stops
 * (cancelled, failed by its deadline or by another branch, its parent ended) or a branch that is
 * cut stops its calls at once: their `signal` aborts and the step gives its worker slot back,
 * where the call would otherwise hold the slot until it returned or timed out.
 */
export class InFlightCalls {
  /** By run: each call's controller, with the markers of the branches and iterations around it. */
  private readonly byRun = new Map<string, Map<AbortController, readonly string[]>>();

  /**
   * Tracks `controller` for the run until the returned function is called. `markers`: the
   * markers (`<parallel or map step key>#<branch or index>`) of the branches and iterations the
   * call runs inside (none at the top level).
   */
  track(
    tenantId: string,
    runId: string,
    controller: AbortController,
    markers: readonly string[] = [],
  ): () => void {
    const key = `${tenantId}:${runId}`;
    let calls = this.byRun.get(key);
    if (!calls) {
      calls = new Map();
      this.byRun.set(key, calls);
    }
    calls.set(controller, markers);
    return () => {
      calls.delete(controller);
      if (calls.size === 0 && this.byRun.get(key) === calls) this.byRun.delete(key);
    };
  }

  /**
   * Aborts the run's calls (with a scope, only those inside that parallel or map step), with a
   * fatal RUN_ENDED or BRANCH_ENDED failure as the reason; returns how many it aborted.
   */
  stop({ tenantId, runId, status, scope }: RunStop): number {
    if (scope === undefined) {
      const reason = new StepFailure(
        'RUN_ENDED',
        `The run ended (${status}) while this call was in flight; the call was aborted.`,
        { fatal: true },
      );
      return this.abort(tenantId, runId, () => true, reason);
    }
    return this.abort(
      tenantId,
      runId,
      (markers) => markers.some((marker) => markerOwner(marker) === scope),
      branchEnded(scope),
    );
  }

  /** Aborts the run's calls inside one branch or iteration (`marker`), which has ended. */
  stopBranch(tenantId: string, runId: string, marker: string): number {
    return this.abort(
      tenantId,
      runId,
      (markers) => markers.includes(marker),
      branchEnded(markerOwner(marker)),
    );
  }

  /** Aborts every call in flight with `reason` (a worker that stops: WorkerStopping). */
  stopAll(reason: Error): number {
    let aborted = 0;
    for (const calls of this.byRun.values()) {
      for (const controller of calls.keys()) {
        controller.abort(reason);
        aborted++;
      }
    }
    return aborted;
  }

  /**
   * The runs with calls in flight, each with the markers its calls run inside, to check after
   * notifications may have been missed.
   */
  runs(): Array<{ tenantId: string; runId: string; markers: string[] }> {
    return [...this.byRun.entries()].map(([key, calls]) => {
      const [tenantId = '', runId = ''] = key.split(':');
      return { tenantId, runId, markers: [...new Set([...calls.values()].flat())] };
    });
  }

  private abort(
    tenantId: string,
    runId: string,
    inside: (markers: readonly string[]) => boolean,
    reason: Error,
  ): number {
    const calls = this.byRun.get(`${tenantId}:${runId}`);
    if (!calls) return 0;
    const aborted = [...calls].filter(([, markers]) => inside(markers)).map(([c]) => c);
    for (const controller of aborted) controller.abort(reason);
    return aborted.length;
  }
}

function branchEnded(owner: string): StepFailure {
  return new StepFailure(
    'BRANCH_ENDED',
    `Step "${owner}" settled while this call was in flight in one of its branches or iterations; the call was aborted.`,
    { fatal: true },
  );
}
