import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Runner, RunnerClient } from '@roster/gpu-runners';
import { afterAll, describe, expect, it } from 'vitest';
import {
  denseModel,
  enqueueDense,
  servingTenant,
  startListeningApi,
  WIDTH,
} from '../test/inference-fixtures.js';

// Two runners of one pool: one runs as a child process and is SIGKILLed while it holds leased
// items; the other (in this process) must answer every request, none lost, none twice.
const { db, url } = await startListeningApi();
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function startChildRunner(token: string): ChildProcess {
  const dir = mkdtempSync(join(tmpdir(), 'roster-runner-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, token, { mode: 0o600 });
  const child = spawn(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      'gpu-runners/src/main.ts',
      '--api-url',
      url,
      '--token-file',
      tokenFile,
      '--name',
      'runner-a',
      '--lease-seconds',
      '2',
      '--claim-wait-ms',
      '200',
    ],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.push(child);
  return child;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('a runner killed mid-batch', () => {
  it('loses its leases; another runner answers every request exactly once', async () => {
    // A heavier model so that the child holds leased items most of the time.
    const t = await servingTenant(db, { bytes: denseModel(3, [WIDTH, 512, 512, 2]) });
    const ids = await enqueueDense(db.appPool, t, 800);
    const child = startChildRunner(t.token);
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += String(d);
    });
    const q = (sql: string, params: unknown[] = []) => db.ownerPool.query(sql, params);

    await until(
      'the child runner to hold leased items after answering some',
      async () => {
        const { rows } = await q(
          `SELECT r.id, (SELECT count(*)::int FROM inference_requests d WHERE d.tenant_id = $1 AND d.status = 'done') AS done
             FROM inference_requests r JOIN runners w ON w.tenant_id = r.tenant_id AND w.id = r.lease_owner
            WHERE r.tenant_id = $1 AND r.status = 'leased' AND w.name = 'runner-a'`,
          [t.tenantId],
        );
        return rows.length > 0 && rows[0].done > 0 ? rows.map((r) => r.id as string) : undefined;
      },
      60_000,
    ).catch((e: Error) => {
      throw new Error(`${e.message}\nrunner stderr:\n${stderr}`);
    });
    // Freeze the child first, so that what it holds can no longer change, then read what it
    // holds (after any answer already on the wire has landed) and kill it.
    child.kill('SIGSTOP');
    await new Promise((r) => setTimeout(r, 500));
    const leased = await q(
      `SELECT r.id FROM inference_requests r JOIN runners w ON w.tenant_id = r.tenant_id AND w.id = r.lease_owner
        WHERE r.tenant_id = $1 AND r.status = 'leased' AND w.name = 'runner-a'`,
      [t.tenantId],
    );
    const held = leased.rows.map((r) => r.id as string);
    expect(held.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const b = new Runner({
      client: new RunnerClient({ baseUrl: url, poolToken: t.token }),
      name: 'runner-b',
      version: 'test',
      leaseSeconds: 30,
      claimWaitMs: 200,
      backoff: { initialMs: 20, maxMs: 200 },
    });
    await b.start();
    try {
      await until(
        'every request to be answered',
        async () => {
          const { rows } = await q(
            `SELECT count(*)::int AS n FROM inference_requests WHERE tenant_id = $1 AND status = 'done'`,
            [t.tenantId],
          );
          return rows[0].n === ids.length ? true : undefined;
        },
        60_000,
      );
    } finally {
      await b.stop();
    }

    const { rows } = await q(
      `SELECT r.id, r.status, r.attempts, w.name AS runner FROM inference_requests r
         JOIN runners w ON w.tenant_id = r.tenant_id AND w.id = r.runner_id WHERE r.tenant_id = $1`,
      [t.tenantId],
    );
    expect(rows).toHaveLength(ids.length);
    expect(rows.every((r) => r.status === 'done')).toBe(true);
    const byB = rows.filter((r) => r.runner === 'runner-b');
    // The server accepted exactly as many answers from B as rows B answered: none twice.
    expect(b.completed).toBe(byB.length);
    // Every item the child held when it died was answered by B, on a later attempt.
    const heldRows = rows.filter((r) => held.includes(r.id));
    expect(heldRows.map((r) => r.runner)).toEqual(held.map(() => 'runner-b'));
    expect(heldRows.every((r) => r.attempts >= 2)).toBe(true);
  }, 120_000);
});
