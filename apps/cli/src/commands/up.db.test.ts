import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const home = await mkdtemp(path.join(tmpdir(), 'roster-up-'));
afterAll(() => rm(home, { recursive: true, force: true }));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Started {
  child: ChildProcess;
  output: () => string;
}

async function startRoster(env: Record<string, string>): Promise<Started> {
  const child = spawn(
    process.execPath,
    ['--import', '@swc-node/register/esm-register', 'apps/cli/src/main.ts', 'up'],
    {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: '', LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`roster up did not come up:\n${out}`)), 90_000);
    const poll = setInterval(() => {
      if (out.includes('Press Ctrl-C to stop.')) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve();
      }
    }, 100);
    child.once('exit', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`roster up exited with ${code}:\n${out}`));
    });
  });
  return { child, output: () => out };
}

async function stop(started: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) =>
    started.child.once('exit', (code) => resolve(code)),
  );
  started.child.kill('SIGINT');
  return exited;
}

describe('roster up', () => {
  it('starts Postgres, seeds once, serves /readyz, stops cleanly on Ctrl-C and reuses the data', async () => {
    const env = {
      ROSTER_HOME: home,
      ROSTER_PG_PORT: String(await freePort()),
      API_PORT: String(await freePort()),
      ROSTER_INBOUND_SMTP_PORT: String(await freePort()),
      ROSTER_MAX_RUNS_PER_TENANT: '7',
    };
    const first = await startRoster(env);
    expect(first.output()).toMatch(/API key: {2}rk_[0-9a-f]{12}_/);
    expect(first.output()).toContain(
      '1 worker process(es) running the workflow queue (at most 7 running runs per tenant)',
    );
    expect(first.output()).toContain(`SMTP on 127.0.0.1:${env.ROSTER_INBOUND_SMTP_PORT}`);
    expect(first.output()).toContain(`http://127.0.0.1:${env.API_PORT}/readyz`);
    const ready = await fetch(`http://127.0.0.1:${env.API_PORT}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { database: 'ok' } });
    expect(ready.headers.get('x-request-id')).toBeTruthy();
    expect(await stop(first)).toBe(0);
    // Postgres removes its pid file only on a clean shutdown.
    expect(existsSync(path.join(home, 'pg', 'postmaster.pid'))).toBe(false);
    await expect(fetch(`http://127.0.0.1:${env.API_PORT}/healthz`)).rejects.toThrow();

    const second = await startRoster(env);
    expect(second.output()).toContain('Demo tenant already present');
    expect(second.output()).not.toContain('API key:');
    expect((await fetch(`http://127.0.0.1:${env.API_PORT}/readyz`)).status).toBe(200);
    expect(await stop(second)).toBe(0);
  }, 180_000);

  it('exits with code 2 naming the variable when configuration is bad', async () => {
    const child = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', 'apps/cli/src/main.ts', 'up'],
      {
        cwd: repoRoot,
        env: { ...process.env, ROSTER_HOME: home, API_PORT: 'http' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let err = '';
    child.stderr?.on('data', (c) => {
      err += c;
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(err).toContain('API_PORT');
  });

  it('says which port is taken instead of printing a stack trace', async () => {
    const blocker = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => {
        const a = blocker.address();
        resolve(typeof a === 'object' && a ? a.port : 0);
      }),
    );
    try {
      const child = spawn(
        process.execPath,
        ['--import', '@swc-node/register/esm-register', 'apps/cli/src/main.ts', 'up'],
        {
          cwd: repoRoot,
          env: {
            ...process.env,
            DATABASE_URL: '',
            ROSTER_HOME: path.join(home, 'busy'),
            ROSTER_PG_PORT: String(port),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let err = '';
      child.stderr?.on('data', (c) => {
        err += c;
      });
      const code = await new Promise((resolve) => child.once('exit', resolve));
      expect(code).toBe(1);
      expect(err).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(err).not.toMatch(/\n\s+at /);
    } finally {
      blocker.close();
    }
  });
});
