import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPool } from '@roster/db';
import { installWorkerSchema } from '@roster/engine';
import { forget, unlockPools } from './heartbeat.js';
import { STOP_GRACE_MS } from './worker-pool.js';
import type { WorkerProcessOptions } from './worker-process.js';

export interface StartWorkersOptions extends WorkerProcessOptions {
  /** Worker processes to run (`roster up --workers N`). */
  count: number;
  /**
   * Owner URL: when given, graphile-worker's schema is installed or upgraded (idempotent) before
   * any process starts, for databases migrated without `afterMigrate: installWorkerSchema`.
   */
  ownerUrl?: string;
  /**
   * How long stop() waits for a process to finish its jobs after SIGTERM before SIGKILL. Default:
   * the processes' `stopGraceMs` (5 s unless given) plus 5 s, so they can abort their late calls
   * and hand the jobs back themselves.
   */
  stopTimeoutMs?: number;
  /** Log lines (process exits, restarts). Default: none. */
  log?: (line: string) => void;
}

/** One worker process that ended, in the order the supervisor saw them end. */
export interface WorkerDeath {
  slot: number;
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Workers {
  /** Resolves when every process reported ready once (rejects when the schema install fails). */
  ready: Promise<void>;
  /** Current process ids, one per slot. */
  pids(): number[];
  /** Processes started to replace ones that died. */
  restarts(): number;
  /** Every process that died while the supervisor was running (not those stop() ended). */
  deaths(): WorkerDeath[];
  /**
   * Sends a signal to the process in `slot` (tests use SIGKILL) and returns its pid; undefined
   * when the slot has no live process or a kill already went to it, so one process is never
   * counted as killed twice.
   */
  kill(slot: number, signal?: NodeJS.Signals): number | undefined;
  /** SIGTERM to every process, wait for each to finish its jobs and exit, SIGKILL stragglers. */
  stop(): Promise<void>;
}

interface Slot {
  child: ChildProcess;
  poolId?: string;
  exited: boolean;
  killed: boolean;
  exit: Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/**
 * Spawns `count` worker processes and keeps them running. When one dies (even by SIGKILL) the
 * supervisor knows at once: it unlocks the dead pool's jobs (`force_unlock_workers`) so they run
 * again within seconds, not graphile-worker's four hours, and starts a replacement. Workers on
 * other machines are covered by the heartbeat sweep every worker runs. A worker process exits by
 * itself when the supervisor goes away (IPC disconnect), so none is left orphaned.
 */
export function startWorkers(options: StartWorkersOptions): Workers {
  const {
    count,
    log = () => {},
    ownerUrl,
    stopTimeoutMs = (options.stopGraceMs ?? STOP_GRACE_MS) + 5000,
    ...processOptions
  } = options;
  const pool = createPool(options.appUrl, { max: 1, applicationName: 'roster-supervisor' });
  const slots: Slot[] = [];
  const deaths: WorkerDeath[] = [];
  const respawns = new Set<NodeJS.Timeout>();
  let stopping = false;
  let restarts = 0;

  const spawn = (slot: number): Promise<void> => {
    const child = fork(ENTRY, [], {
      execArgv: ['--import', '@swc-node/register/esm-register'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let exited: () => void = () => {};
    const entry: Slot = {
      child,
      exited: false,
      killed: false,
      exit: new Promise<void>((resolve) => {
        exited = resolve;
      }),
    };
    slots[slot] = entry;
    const ready = new Promise<void>((resolve) => {
      child.on('message', (m: { type: string; poolId?: string }) => {
        if (m.type === 'ready') {
          entry.poolId = m.poolId;
          resolve();
        }
      });
    });
    // A process that could not start at all emits 'error' and may never emit 'exit'.
    let ended = false;
    const onEnd = (code: number | null, signal: NodeJS.Signals | null) => {
      if (ended) return;
      ended = true;
      entry.exited = true;
      exited();
      if (stopping) return;
      deaths.push({ slot, pid: child.pid ?? 0, code, signal });
      log(`worker ${child.pid} exited (${signal ?? code}); unlocking its jobs and restarting`);
      if (entry.poolId) void unlockWithRetry(entry.poolId);
      const timer = setTimeout(() => {
        respawns.delete(timer);
        if (stopping) return;
        restarts++;
        void spawn(slot);
      }, 50);
      respawns.add(timer);
    };
    child.once('exit', onEnd);
    child.once('error', () => onEnd(null, null));
    child.send({ type: 'start', options: processOptions });
    return ready;
  };

  const unlockWithRetry = async (poolId: string) => {
    for (let attempt = 0; attempt < 60 && !stopping; attempt++) {
      try {
        await unlockPools(pool, [poolId]);
        await forget(pool, [poolId]);
        return;
      } catch {
        // Postgres may be restarting; the heartbeat sweep is the fallback.
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  };

  const ready = (ownerUrl ? installWorkerSchema(ownerUrl) : Promise.resolve()).then(async () => {
    const started: Array<Promise<void>> = [];
    for (let i = 0; i < count && !stopping; i++) started.push(spawn(i));
    await Promise.all(started);
  });
  // stop() may run before ready settles; an unobserved rejection must not crash the caller.
  ready.catch(() => {});

  return {
    ready,
    pids: () => slots.map((s) => s.child.pid ?? 0),
    restarts: () => restarts,
    deaths: () => [...deaths],
    kill(slot, signal = 'SIGKILL') {
      const entry = slots[slot];
      if (!entry || entry.exited || entry.killed || entry.child.pid === undefined) return undefined;
      if (!entry.child.kill(signal)) return undefined;
      if (signal === 'SIGKILL') entry.killed = true;
      return entry.child.pid;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      for (const timer of respawns) clearTimeout(timer);
      respawns.clear();
      await ready.catch(() => {});
      const stragglers: string[] = [];
      await Promise.all(
        slots.map(async (entry) => {
          if (entry.exited) return;
          entry.child.kill('SIGTERM');
          let timer: NodeJS.Timeout | undefined;
          const late = new Promise<'late'>((resolve) => {
            timer = setTimeout(() => resolve('late'), stopTimeoutMs);
          });
          if ((await Promise.race([entry.exit, late])) === 'late') {
            entry.child.kill('SIGKILL');
            await entry.exit;
            if (entry.poolId) stragglers.push(entry.poolId);
          }
          clearTimeout(timer);
        }),
      );
      // A process killed mid-job leaves its jobs locked: hand them back now.
      if (stragglers.length > 0) {
        await unlockPools(pool, stragglers).catch(() => {});
        await forget(pool, stragglers).catch(() => {});
      }
      await pool.end();
    },
  };
}
