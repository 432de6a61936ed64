import type { ConnectorStep, DecisionStep } from '@roster/core';
import { EngineError } from './errors.js';

/** What every executor call gets. */
export interface ExecutorCall {
  tenantId: string;
  runId: string;
  stepId: string;
  /** 1-based attempt of this step (a crash re-run repeats the attempt number). */
  attempt: number;
  /** Stable across attempts and replays: `<runId>/<stepId>`; connectors deduplicate on it. */
  idempotencyKey: string;
  /** The step's evaluated `input` expression (undefined when it has none). */
  input: unknown;
  /**
   * Aborted, with a StepFailure as its reason, when the step times out (TIMEOUT), the run passes
   * its deadline (DEADLINE_EXCEEDED), the run stops while the call is in flight (RUN_ENDED:
   * cancelled, failed by another branch, its parent ended) or the parallel or map step around the
   * call settles without it (BRANCH_ENDED). The step fails at once either way; an executor that
   * honours the signal also stops its own work.
   */
  signal: AbortSignal;
  /** The run's deadline. */
  deadline: Date;
}

/**
 * `output`: the step succeeded. `wait`: the step waits for an event (resumeStep) without holding
 * a job; its timeout still applies.
 */
export type ExecutorResult = { output: unknown } | { wait: true };

export type ConnectorExecutor = (
  call: ExecutorCall & { step: ConnectorStep },
) => Promise<ExecutorResult>;
export type DecisionExecutor = (
  call: ExecutorCall & { step: DecisionStep },
) => Promise<ExecutorResult>;

/**
 * The executors of the step types that reach outside the engine. The plugin host registers the
 * connector executor and the inference work the decision executor; tests register their own.
 */
export class ExecutorRegistry {
  private connectorExecutor?: ConnectorExecutor;
  private decisionExecutor?: DecisionExecutor;

  registerConnector(executor: ConnectorExecutor): this {
    this.connectorExecutor = executor;
    return this;
  }

  registerDecision(executor: DecisionExecutor): this {
    this.decisionExecutor = executor;
    return this;
  }

  connector(): ConnectorExecutor {
    if (!this.connectorExecutor) throw missing('connector');
    return this.connectorExecutor;
  }

  decision(): DecisionExecutor {
    if (!this.decisionExecutor) throw missing('decision');
    return this.decisionExecutor;
  }
}

function missing(type: string): EngineError {
  return new EngineError(
    'EXECUTOR_MISSING',
    `No ${type} executor is registered in this worker: register one on the ExecutorRegistry passed to the worker.`,
    { type },
  );
}
