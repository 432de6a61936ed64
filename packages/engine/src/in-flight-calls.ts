import { StepFailure } from './errors.js';

/** A run's end as the `roster_run_stopped` notification names it: `<tenantId>:<runId>:<status>`. */
export interface RunStop {
  tenantId: string;
  runId: string;
  status: string;
}

/** The channel a run that stops while running is announced on (migration 0040). */
export const RUN_STOPPED_CHANNEL = 'roster_run_stopped';

/** Reads a `roster_run_stopped` payload; undefined for anything else. */
export function parseRunStop(payload: string | undefined): RunStop | undefined {
  const [tenantId, runId, status, ...rest] = (payload ?? '').split(':');
  if (!tenantId || !runId || !status || rest.length > 0) return undefined;
  return { tenantId, runId, status };
}

/**
 * The connector and decision calls this worker has in flight, by run, so that a run that stops
 * (cancelled, failed by its deadline or by another branch, its parent ended) stops its calls at
 * once: their `signal` aborts and the step gives its worker slot back, where the call would
 * otherwise hold the slot until it returned or timed out.
 */
export class InFlightCalls {
  private readonly byRun = new Map<string, Set<AbortController>>();

  /** Tracks `controller` for the run until the returned function is called. */
  track(tenantId: string, runId: string, controller: AbortController): () => void {
    const key = `${tenantId}:${runId}`;
    let calls = this.byRun.get(key);
    if (!calls) {
      calls = new Set();
      this.byRun.set(key, calls);
    }
    calls.add(controller);
    return () => {
      calls.delete(controller);
      if (calls.size === 0 && this.byRun.get(key) === calls) this.byRun.delete(key);
    };
  }

  /** Aborts the run's calls with a RUN_ENDED failure; returns how many it aborted. */
  stop({ tenantId, runId, status }: RunStop): number {
    const calls = this.byRun.get(`${tenantId}:${runId}`);
    if (!calls) return 0;
    const reason = new StepFailure(
      'RUN_ENDED',
      `The run ended (${status}) while this call was in flight; the call was aborted.`,
      { fatal: true },
    );
    const aborted = [...calls];
    for (const controller of aborted) controller.abort(reason);
    return aborted.length;
  }

  /** The runs with calls in flight, to check after notifications may have been missed. */
  runs(): Array<{ tenantId: string; runId: string }> {
    return [...this.byRun.keys()].map((key) => {
      const [tenantId = '', runId = ''] = key.split(':');
      return { tenantId, runId };
    });
  }
}
