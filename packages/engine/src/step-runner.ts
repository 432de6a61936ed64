import {
  getStep,
  parseDuration,
  type RandomSource,
  resolveStepPolicy,
  type Step,
  type WorkflowDefinition,
} from '@roster/core';
import { type Pool, withTenant } from '@roster/db';
import { childEnded, startChildRun } from './child-runs.js';
import { type DefinitionCache, loadDefinition, sharedDefinitions } from './definitions.js';
import type { EngineOptions } from './engine-options.js';
import { StepFailure, WorkerStopping } from './errors.js';
import type { ExecutorRegistry, ExecutorResult } from './executors.js';
import { evaluate } from './expressions.js';
import { startMap, startParallel } from './fan-out.js';
import { type FlowContext, flowScope, framesLive, loadFlowContext } from './flow-context.js';
import { type Frame, framesOf, rowKey } from './flow-keys.js';
import type { InFlightCalls } from './in-flight-calls.js';
import { inputHash } from './input-hash.js';
import { computePure, planPureChain } from './pure-chain.js';
import { loadRunContext, type RunContext } from './run-context.js';
import { markStepRunning, SHOW_RUNNING_AFTER_MS } from './running-step.js';
import { type StepJob, stepIdempotencyKey } from './step-job.js';
import {
  applyTransition,
  failStep,
  handedOver,
  type StepBase,
  succeedStep,
} from './step-outcomes.js';
import { needsContext, needsSteps } from './step-reads.js';
import {
  parseTransitionResult,
  runnableJobs,
  stepJob,
  type TransitionResult,
  type TransitionSpec,
  timerKey,
} from './transition.js';
import { TransitionBatcher } from './transition-batch.js';

export interface StepRunnerDeps {
  /** roster_app pool. */
  pool: Pool;
  executors: ExecutorRegistry;
  definitions?: DefinitionCache;
  /**
   * The operator's engine options, for the runs this worker starts itself (a callWorkflow step's
   * child run): its tenant's run limit and the sealing of personal data in the child's input.
   */
  engine?: Pick<EngineOptions, 'maxRunsPerTenant' | 'sealInput' | 'mayHoldPersonalData'>;
  /** Jitter source for backoff. Default Math.random. */
  random?: RandomSource;
  /**
   * Wakes the worker's queue after a transition made `jobs` jobs runnable (graphile-worker's
   * `workerPool.nudge`). Without it transitions NOTIFY, which serialises their commits.
   */
  wake?: (jobs: number) => void;
  /**
   * Batch the transitions of concurrent jobs into shared commits (TransitionBatcher). Default
   * true; tests that count statements may turn it off.
   */
  batchTransitions?: boolean;
  /**
   * Where this worker's connector and decision calls register while in flight, so that a run that
   * stops aborts them (InFlightCalls.stop, on the `roster_run_stopped` notification).
   */
  inFlight?: InFlightCalls;
  /**
   * A call still in flight after this many ms gets a `running` step row, so the run's timeline
   * shows it (markStepRunning). Default 1000.
   */
  showRunningAfterMs?: number;
  /**
   * Run a run's next step in the same task, without a fetch: its job is inserted locked by this
   * pool (`lockFor()`), and `settle` completes or releases such a job when no transition did
   * (a step skipped or a step that threw). Up to `maxSteps` steps or `maxMs` per task, so one
   * long run cannot hold a worker slot from other tenants for long. Absent: every step is a
   * job fetched from the queue.
   */
  inline?: {
    lockFor: () => string;
    settle: (jobId: string, outcome: 'complete' | 'release') => Promise<void>;
    maxSteps?: number;
    maxMs?: number;
  };
}

export type StepRunResult = TransitionResult | 'skipped';

/** Steps one task runs at most, unless `inline.maxSteps` says otherwise. */
const INLINE_MAX_STEPS = 20;

export interface StepRunner {
  /** Runs one step job (the `roster_step` task), and the next steps it hands to this worker. */
  run(job: StepJob, jobId?: string): Promise<StepRunResult>;
  /**
   * Runs the first steps of the runs of a start batch (the `roster_steps` task): each run's
   * chain of pure steps is planned in memory and the chains commit together, in shared
   * statements. A run's step that is not pure, or that fails, is left to a job of its own, as
   * its own job would run it. Resolves once every run's transition has committed; rejects, after
   * all have settled, with the first error, and the batch runs again (what committed is
   * recognised and skipped).
   */
  runStarts(jobs: StepJob[]): Promise<StepRunResult[]>;
}

/**
 * The runner of the engine's two tasks (see StepRunner). A step runs, then moves its run forward
 * in ONE transition (roster_engine_transition). Steps that only compute read nothing from
 * Postgres unless their expressions read the run; steps with side effects check the run is
 * still active first.
 */
export function createStepRunner(deps: StepRunnerDeps): StepRunner {
  const cache = deps.definitions ?? sharedDefinitions;
  const random = deps.random ?? Math.random;
  const batcher = deps.batchTransitions === false ? undefined : new TransitionBatcher(deps.pool);
  const definitionOf = async (job: StepJob): Promise<WorkflowDefinition> => {
    const hit = cache.get(job.t, job.w, job.v);
    if (hit) return hit;
    return withTenant(deps.pool, job.t, async ({ client }) =>
      loadDefinition(client, cache, job.t, job.w, job.v),
    ).then((r) => r.definition);
  };

  const runOne = async (
    job: StepJob,
    jobId: string | undefined,
    lockFor: string | undefined,
    context?: RunContext,
  ): Promise<{ result: StepRunResult; inline?: StepBase['inline'] }> => {
    const base = await prepare(job, jobId, lockFor, context);
    const result = await runStep(base);
    return base.inline ? { result, inline: base.inline } : { result };
  };

  const prepare = async (
    job: StepJob,
    jobId: string | undefined,
    lockFor: string | undefined,
    context?: RunContext,
  ) => {
    const definition = await definitionOf(job);
    const base: StepBase = {
      job,
      stepId: job.s ?? definition.start,
      definition,
      pool: deps.pool,
      random,
    };
    if (deps.wake) base.wake = deps.wake;
    if (jobId !== undefined) base.jobId = jobId;
    if (batcher) base.apply = (spec) => batcher.apply(spec);
    if (lockFor !== undefined) base.lockFor = lockFor;
    if (context !== undefined) base.context = context;
    if (deps.engine) base.engine = deps.engine;
    return base;
  };

  const run = async (job: StepJob, jobId?: string): Promise<StepRunResult> => {
    const inline = deps.inline;
    if (!inline) return (await runOne(job, jobId, undefined)).result;
    const maxSteps = inline.maxSteps ?? INLINE_MAX_STEPS;
    const until = Date.now() + (inline.maxMs ?? 250);
    let current = job;
    let currentId = jobId;
    // The run as the last transition left it, when it handed over a step that reads the run.
    let context: RunContext | undefined;
    for (let n = 1; ; n++) {
      const handOff = n < maxSteps && Date.now() < until ? inline.lockFor() : undefined;
      let outcome: Awaited<ReturnType<typeof runOne>>;
      try {
        const chained =
          batcher && handOff !== undefined
            ? await runPureChain(batcher, current, currentId, handOff, maxSteps - n, context)
            : undefined;
        if (chained) {
          if (!chained.inline) return chained.result;
          n += chained.steps - 1;
          current = chained.inline.job;
          currentId = chained.inline.jobId;
          context = chained.inline.context;
          continue;
        }
        outcome = await runOne(current, currentId, handOff, context);
      } catch (err) {
        // This task holds the lock of an inline job: hand it back so it runs again.
        if (n > 1 && currentId !== undefined) await inline.settle(currentId, 'release');
        throw err;
      }
      // A skipped inline step made no transition, which would have completed its job.
      if (n > 1 && outcome.result === 'skipped' && currentId !== undefined) {
        await inline.settle(currentId, 'complete');
      }
      if (!outcome.inline) return outcome.result;
      current = outcome.inline.job;
      currentId = outcome.inline.jobId;
      context = outcome.inline.context;
    }
  };

  /** A run's first steps in a start batch: its chain of pure steps, else the step alone. */
  const runStart = async (job: StepJob): Promise<StepRunResult> => {
    const base = await prepare(job, undefined, deps.inline?.lockFor(), undefined);
    if (batcher) {
      const specs = await planPureChain(base, deps.inline?.maxSteps ?? INLINE_MAX_STEPS);
      const last = specs.at(-1);
      if (last) {
        // The chain's successor is not pure: it goes to the queue, as a job of its own, rather
        // than to this task, which runs many runs in one worker slot.
        if (last.inlineJob) {
          last.jobs = [...(last.jobs ?? []), last.inlineJob];
          delete last.inlineJob;
          delete last.lockFor;
          delete last.inlineContext;
        }
        return (await commitChain(batcher, specs)).result;
      }
    }
    // Alone, as its own job would run it; its successor goes to the queue.
    delete base.lockFor;
    return runStep(base);
  };

  const runStarts = async (jobs: StepJob[]): Promise<StepRunResult[]> => {
    const settled = await Promise.allSettled(jobs.map(runStart));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<StepRunResult>).value);
  };

  return { run, runStarts };

  /**
   * Runs the chain of pure steps that starts at `job` (planPureChain) and commits it as one
   * statement; nothing when `job`'s step is not pure. The result is the first transition that did
   * not apply, or the last one's, with the job it handed to this worker.
   */
  async function runPureChain(
    chainBatcher: TransitionBatcher,
    job: StepJob,
    jobId: string | undefined,
    lockFor: string,
    max: number,
    context: RunContext | undefined,
  ): Promise<{ result: TransitionResult; steps: number; inline?: StepBase['inline'] } | undefined> {
    const base = await prepare(job, jobId, lockFor, context);
    const specs = await planPureChain(base, max);
    if (specs.length === 0) return undefined;
    return commitChain(chainBatcher, specs);
  }

  /**
   * Commits a planned chain as one statement and wakes the queue for the jobs it made runnable.
   * The result is the first transition that did not apply, or the last one's, with the job it
   * handed to this worker.
   */
  async function commitChain(
    chainBatcher: TransitionBatcher,
    specs: TransitionSpec[],
  ): Promise<{ result: TransitionResult; steps: number; inline?: StepBase['inline'] }> {
    const raws = await chainBatcher.applyChain(specs);
    let woken = 0;
    let outcome: { result: TransitionResult; steps: number; inline?: StepBase['inline'] } = {
      result: 'applied',
      steps: specs.length,
    };
    for (const [i, spec] of specs.entries()) {
      const parsed = parseTransitionResult(raws[i]);
      const { result } = parsed;
      if (result === 'applied' || result === 'deadline') {
        woken += result === 'deadline' ? 1 : runnableJobs(spec);
      }
      if (result !== 'applied') {
        outcome = { result, steps: i + 1 };
        break;
      }
      const inline = i === specs.length - 1 ? handedOver(spec, parsed) : undefined;
      if (inline) outcome.inline = inline;
    }
    if (woken > 0) deps.wake?.(woken);
    return outcome;
  }

  async function runStep(base: StepBase): Promise<StepRunResult> {
    const { job, definition } = base;
    const stepId = base.stepId;
    const { step, scope } = getStep(definition, stepId);
    const path = job.i ?? [];
    let frames: Frame[] = [];
    let flowContext: FlowContext | undefined;
    if (scope.kind !== 'root' || path.length > 0) {
      // Inside a branch or iteration: run only while every enclosing one still runs (a decided
      // join or a failed map cancels the rest), with the item of the innermost iteration.
      const found = framesOf(definition, stepId, path);
      if (!found) return 'skipped';
      frames = found;
      flowContext = await loadFlowContext(
        deps.pool,
        job.t,
        job.r,
        frames.map((f) => f.marker),
        path,
      );
      if (
        !flowContext ||
        !['running', 'waiting'].includes(flowContext.status) ||
        flowContext.generation > job.g ||
        !framesLive(flowContext, frames, job.g)
      ) {
        return 'skipped';
      }
    }
    if (job.k === 'child') return childEnded(base);
    if (job.k === 'timeout') {
      const timedOut = new StepFailure(
        'TIMEOUT',
        `Step "${stepId}" got no answer within its timeout.`,
      );
      return failStep(base, timedOut, { expectWaiting: true, closeReview: 'expired' });
    }
    if (job.k === 'resume') {
      return succeedStep(base, { resumedAt: new Date().toISOString() }, { expectWaiting: true });
    }
    let context: RunContext | undefined = flowContext;
    if (context === undefined && needsContext(step)) {
      const handed = base.context;
      context =
        handed && (handed.steps !== null || !needsSteps(step))
          ? handed
          : await loadRunContext(deps.pool, job.t, job.r, needsSteps(step));
    }
    if (context && (context.status !== 'running' || context.generation > job.g)) return 'skipped';
    try {
      return await execute(base, step, context, frames, deps);
    } catch (err) {
      // Not the step's failure: the job runs again elsewhere (see WorkerStopping).
      if (err instanceof WorkerStopping) throw err;
      const failure =
        err instanceof StepFailure
          ? err
          : new StepFailure('STEP_ERROR', (err as Error)?.message ?? String(err), { cause: err });
      return failStep(base, failure);
    }
  }
}

async function execute(
  base: StepBase,
  step: Step,
  context: RunContext | undefined,
  frames: Frame[],
  {
    executors,
    inFlight,
    showRunningAfterMs,
  }: Pick<StepRunnerDeps, 'executors' | 'inFlight' | 'showRunningAfterMs'>,
): Promise<StepRunResult> {
  const { job, stepId, definition } = base;
  const scope = flowScope(job.r, context, job.i ?? [], frames);
  switch (step.type) {
    case 'parallel':
      return startParallel(base, step);
    case 'map':
      return startMap(base, step, scope);
    case 'callWorkflow':
      return startChildRun(base, step, scope, context?.deadlineAt);
    case 'transform':
    case 'condition':
    case 'succeed': {
      const { output, finish } = await computePure(base, scope);
      return succeedStep(base, output, finish);
    }
    case 'fail':
      return failStep(
        base,
        new StepFailure(step.error, step.message ?? step.error, { fatal: true }),
      );
    case 'wait': {
      const wakeAt = step.duration
        ? new Date(Date.now() + parseDuration(step.duration))
        : toDate(await evaluate(step.until as string, scope));
      return waitStep(base, wakeAt, 'resume');
    }
    case 'review':
    case 'approval': {
      const { timeoutMs } = resolveStepPolicy(definition, stepId);
      const dueAt = new Date(Date.now() + timeoutMs);
      const data = step.data ? await evaluate(step.data, scope) : {};
      return waitStep(base, dueAt, 'timeout', {
        kind: step.type,
        title: step.title,
        data,
        ...(step.type === 'review' && step.labels ? { labels: step.labels } : {}),
        ...(step.type === 'review' && step.role ? { role: step.role } : {}),
        ...(step.type === 'approval' && step.approvers.role ? { role: step.approvers.role } : {}),
        dueAt: dueAt.toISOString(),
      });
    }
    case 'connector':
    case 'decision': {
      const { timeoutMs } = resolveStepPolicy(definition, stepId);
      const input = step.input ? await evaluate(step.input, scope) : undefined;
      const deadline = new Date(context?.deadlineAt ?? Date.now() + timeoutMs);
      // Past the run's deadline nothing is called: the run is failing, and a side effect now
      // would be one nobody waits for.
      if (deadline.getTime() <= Date.now()) throw deadlineExceeded(stepId);
      const controller = new AbortController();
      const call = {
        tenantId: job.t,
        runId: job.r,
        stepId,
        attempt: job.a,
        idempotencyKey: stepIdempotencyKey(job.r, rowKey(stepId, job.i)),
        input,
        signal: controller.signal,
        deadline,
      };
      const markers = frames.map((frame) => frame.marker);
      const untrack = inFlight?.track(job.t, job.r, controller, markers);
      const startedAt = new Date();
      const showRunning = setTimeout(() => {
        // Best effort: the timeline misses the mark if Postgres is away, the run does not.
        markStepRunning(base.pool, {
          tenantId: job.t,
          runId: job.r,
          stepKey: rowKey(stepId, job.i),
          attempt: job.a,
          generation: job.g,
          startedAt,
        }).catch(() => {});
      }, showRunningAfterMs ?? SHOW_RUNNING_AFTER_MS);
      let result: ExecutorResult;
      try {
        const pending =
          step.type === 'connector'
            ? executors.connector()({ ...call, step })
            : executors.decision()({ ...call, step });
        result = await raceCall(pending, { timeoutMs, deadline, controller, stepId });
      } finally {
        clearTimeout(showRunning);
        untrack?.();
      }
      if ('wait' in result) {
        return waitStep(base, new Date(Date.now() + timeoutMs), 'timeout');
      }
      // A connector call is audited by what it called and a fingerprint of its request (the
      // SHA-256 of its canonical input), never the input: it may hold secrets or personal data.
      return step.type === 'connector'
        ? succeedStep(base, result.output, {
            call: {
              connector: `${step.connector}.${step.action}`,
              idempotencyKey: call.idempotencyKey,
              requestFingerprint: inputHash(input ?? null),
            },
          })
        : succeedStep(base, result.output);
    }
    default:
      throw new StepFailure(
        'STEP_TYPE_UNSUPPORTED',
        `Step type ${(step as Step).type} is not supported`,
        {
          fatal: true,
        },
      );
  }
}

/** The step waits without holding a job: a timer job resumes it (or times it out) at `at`. */
async function waitStep(
  base: StepBase,
  at: Date,
  kind: 'resume' | 'timeout',
  review?: TransitionSpec['review'],
): Promise<TransitionResult> {
  const { job, stepId } = base;
  const key = rowKey(stepId, job.i);
  // Inside a branch or iteration the run keeps running: other branches may still work.
  const root = getStep(base.definition, stepId).scope.kind === 'root';
  return applyTransition(base, {
    tenant: job.t,
    run: job.r,
    step: key,
    attempt: job.a,
    generation: job.g,
    stepStatus: 'waiting',
    wakeAt: at.toISOString(),
    runStatus: root ? 'waiting' : 'running',
    jobs: [stepJob(job, stepId, job.a, { runAt: at, kind, jobKey: timerKey(job.r, key) })],
    audit: [{ kind: 'step.waiting', data: { step: key, until: at.toISOString() } }],
    ...(review ? { review } : {}),
    ...(base.jobId !== undefined ? { job: base.jobId } : {}),
  });
}

function deadlineExceeded(stepId: string): StepFailure {
  return new StepFailure(
    'DEADLINE_EXCEEDED',
    `The run passed its deadline while step "${stepId}" was calling; the call was aborted.`,
    { fatal: true },
  );
}

/**
 * The call's result, unless the step's timeout or the run's deadline comes first, or the run or
 * the branch around the call stops (its controller aborted by InFlightCalls): then the call's
 * signal aborts and the step fails at once with TIMEOUT, DEADLINE_EXCEEDED, RUN_ENDED or
 * BRANCH_ENDED, giving its worker slot back.
 */
async function raceCall(
  pending: Promise<ExecutorResult>,
  limits: { timeoutMs: number; deadline: Date; controller: AbortController; stepId: string },
): Promise<ExecutorResult> {
  const { timeoutMs, deadline, controller, stepId } = limits;
  const untilDeadline = deadline.getTime() - Date.now();
  const reason =
    untilDeadline < timeoutMs
      ? deadlineExceeded(stepId)
      : new StepFailure('TIMEOUT', `Step "${stepId}" ran past its timeout of ${timeoutMs} ms.`);
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_, reject) => {
    onAbort = () => reject(controller.signal.reason);
    if (controller.signal.aborted) return onAbort();
    controller.signal.addEventListener('abort', onAbort, { once: true });
    timer = setTimeout(
      () => controller.abort(reason),
      Math.max(0, Math.min(timeoutMs, untilDeadline)),
    );
  });
  try {
    return await Promise.race([pending, stopped]);
  } finally {
    clearTimeout(timer);
    if (onAbort) controller.signal.removeEventListener('abort', onAbort);
  }
}

function toDate(value: unknown): Date {
  const date = typeof value === 'number' ? new Date(value) : new Date(String(value));
  if (Number.isNaN(date.getTime())) {
    throw new StepFailure(
      'BAD_WAIT_UNTIL',
      `A wait's until gave ${JSON.stringify(value)}: return an ISO 8601 timestamp or epoch milliseconds.`,
      { fatal: true },
    );
  }
  return date;
}
