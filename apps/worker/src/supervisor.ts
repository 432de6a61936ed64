import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPool } from '@roster/db';
import { forget, unlockPools } from './heartbeat.js';
import type { WorkerProcessOptions } from './worker-process.js';

export interface StartWorkersOptions extends WorkerProcessOptions {
  /** Worker processes to run (`roster up --workers N`). */
  count: number;
  /** Log lines (process exits, restarts). Default: none. */
  log?: (line: string) => void;
}

export interface Workers {
  /** Resolves when every process reported ready once. */
  ready: Promise<void>;
  /** Current process ids, one per slot. */
  pids(): number[];
  /** Processes that died and were replaced. */
  restarts(): number;
  /** Sends a signal to the live process in `slot` (tests use SIGKILL); false when none is. */
  kill(slot: number, signal?: NodeJS.Signals): boolean;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./worker-process.ts', import.meta.url));

/**
 * Spawns `count` worker processes and keeps them running. When one dies (even by SIGKILL) the
 * supervisor knows at once: it unlocks the dead pool's jobs (`force_unlock_workers`) so they run
 * again within seconds, not graphile-worker's four hours, and starts a replacement. Workers on
 * other machines are covered by the heartbeat sweep every worker runs.
 */
export function startWorkers(options: StartWorkersOptions): Workers {
  const { count, log = () => {}, ...processOptions } = options;
  const pool = createPool(options.appUrl, { max: 1, applicationName: 'roster-supervisor' });
  const slots: Array<{ child: ChildProcess; poolId?: string }> = [];
  let stopping = false;
  let restarts = 0;
  const readiness: Array<Promise<void>> = [];

  const spawn = (slot: number): Promise<void> => {
    const child = fork(ENTRY, [], {
      execArgv: ['--import', '@swc-node/register/esm-register'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const entry: { child: ChildProcess; poolId?: string } = { child };
    slots[slot] = entry;
    const ready = new Promise<void>((resolve) => {
      child.on('message', (m: { type: string; poolId?: string }) => {
        if (m.type === 'ready') {
          entry.poolId = m.poolId;
          resolve();
        }
      });
    });
    child.send({ type: 'start', options: processOptions });
    child.once('exit', (code, signal) => {
      if (stopping) return;
      restarts++;
      log(`worker ${child.pid} exited (${signal ?? code}); unlocking its jobs and restarting`);
      if (entry.poolId) void unlockWithRetry(entry.poolId);
      setTimeout(() => {
        if (!stopping) void spawn(slot);
      }, 50);
    });
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

  for (let i = 0; i < count; i++) readiness.push(spawn(i));

  return {
    ready: Promise.all(readiness).then(() => {}),
    pids: () => slots.map((s) => s.child.pid ?? 0),
    restarts: () => restarts,
    kill(slot, signal = 'SIGKILL') {
      const child = slots[slot]?.child;
      if (!child || child.exitCode !== null || child.signalCode !== null) return false;
      return child.kill(signal);
    },
    async stop() {
      stopping = true;
      await Promise.all(
        slots.map(
          ({ child }) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
              child.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              child.send({ type: 'stop' });
            }),
        ),
      );
      await pool.end();
    },
  };
}
