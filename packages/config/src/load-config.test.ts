import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, configKeys, loadConfig } from './index.js';

describe('loadConfig', () => {
  it('gives laptop defaults for an empty environment', () => {
    const config = loadConfig({});
    expect(config.API_PORT).toBe(4000);
    expect(config.API_HOST).toBe('127.0.0.1');
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.ROSTER_SEED_DEMO).toBe(true);
  });

  it('treats empty variables as unset and coerces numbers and booleans', () => {
    const config = loadConfig({ API_PORT: '8080', DATABASE_URL: '', ROSTER_SEED_DEMO: 'no' });
    expect(config.API_PORT).toBe(8080);
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.ROSTER_SEED_DEMO).toBe(false);
  });

  it('names every bad variable and what it expected', () => {
    let error: unknown;
    try {
      loadConfig({ API_PORT: 'eighty', LOG_LEVEL: 'loud', DATABASE_URL: 'mysql://x' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const issues = (error as ConfigError).issues;
    expect(issues.map((i) => i.variable).sort()).toEqual(['API_PORT', 'DATABASE_URL', 'LOG_LEVEL']);
    expect(issues.find((i) => i.variable === 'LOG_LEVEL')?.expected).toContain('"info"');
    expect(issues.find((i) => i.variable === 'API_PORT')?.received).toBe('eighty');
    // A database URL may carry a password: it is never echoed back.
    expect(issues.find((i) => i.variable === 'DATABASE_URL')?.received).toBeUndefined();
  });

  it('reads the tenant limit of running runs (100 by default) and refuses one below 1', () => {
    expect(loadConfig({}).ROSTER_MAX_RUNS_PER_TENANT).toBe(100);
    expect(loadConfig({ ROSTER_MAX_RUNS_PER_TENANT: '500' }).ROSTER_MAX_RUNS_PER_TENANT).toBe(500);
    for (const bad of ['0', '2.5', 'many']) {
      expect(() => loadConfig({ ROSTER_MAX_RUNS_PER_TENANT: bad })).toThrow(
        /ROSTER_MAX_RUNS_PER_TENANT/,
      );
    }
  });

  it("reads a stopping worker's grace for calls in flight (5 s by default) and refuses a negative one", () => {
    expect(loadConfig({}).ROSTER_WORKER_STOP_GRACE_MS).toBe(5000);
    expect(loadConfig({ ROSTER_WORKER_STOP_GRACE_MS: '0' }).ROSTER_WORKER_STOP_GRACE_MS).toBe(0);
    for (const bad of ['-1', '1.5', 'soon', '600001']) {
      expect(() => loadConfig({ ROSTER_WORKER_STOP_GRACE_MS: bad })).toThrow(
        /ROSTER_WORKER_STOP_GRACE_MS/,
      );
    }
  });

  it('reads the egress allow-list as a list (empty by default) and refuses malformed entries', () => {
    expect(loadConfig({}).ROSTER_EGRESS_ALLOW).toEqual([]);
    expect(
      loadConfig({ ROSTER_EGRESS_ALLOW: '127.0.0.1, ::1/128,peer.internal' }).ROSTER_EGRESS_ALLOW,
    ).toEqual(['127.0.0.1', '::1/128', 'peer.internal']);
    expect(() => loadConfig({ ROSTER_EGRESS_ALLOW: '10.0.0.0/99' })).toThrow(/ROSTER_EGRESS_ALLOW/);
    expect(() => loadConfig({ ROSTER_EGRESS_ALLOW: 'http://x' })).toThrow(/ROSTER_EGRESS_ALLOW/);
  });

  it('rejects a port out of range', () => {
    expect(() => loadConfig({ API_PORT: '70000' })).toThrow(/API_PORT: expected a number <= 65535/);
  });

  it('lists every variable the README documents', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const key of configKeys) expect(readme, `README documents ${key}`).toContain(`\`${key}\``);
  });
});

describe('a process started with bad configuration', () => {
  it('exits with code 2 and names the variable', () => {
    const script = `import { loadConfigOrExit } from '@roster/config'; loadConfigOrExit(process.env); console.log('started');`;
    const result = spawnSync(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', '--input-type=module', '-e', script],
      { env: { ...process.env, API_PORT: 'not-a-port' }, encoding: 'utf8' },
    );
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('API_PORT: expected a whole number');
    expect(result.stdout).not.toContain('started');
  });
});

describe('marketplace configuration', () => {
  const key = Buffer.alloc(32, 7).toString('base64');

  it('reads the master key, previous keys, platform admins and the plugin egress allow-list', () => {
    const config = loadConfig({
      ROSTER_MASTER_KEY: key,
      ROSTER_MASTER_KEYS_PREVIOUS: `${Buffer.alloc(32, 1).toString('base64')}, ${Buffer.alloc(32, 2).toString('base64')}`,
      ROSTER_PLATFORM_ADMINS: 'Ops@Example.test, root@example.test',
      ROSTER_PLUGIN_EGRESS_ALLOW: '127.0.0.1,::1/128',
    });
    expect(config.ROSTER_MASTER_KEY).toBe(key);
    expect(config.ROSTER_MASTER_KEYS_PREVIOUS).toHaveLength(2);
    expect(config.ROSTER_PLATFORM_ADMINS).toEqual(['ops@example.test', 'root@example.test']);
    expect(config.ROSTER_PLUGIN_EGRESS_ALLOW).toEqual(['127.0.0.1', '::1/128']);
  });

  it('refuses a master key that is not 32 bytes, without echoing it', () => {
    let error: unknown;
    try {
      loadConfig({ ROSTER_MASTER_KEY: Buffer.alloc(16, 9).toString('base64') });
    } catch (err) {
      error = err;
    }
    const issue = (error as ConfigError).issues.find((i) => i.variable === 'ROSTER_MASTER_KEY');
    expect(issue?.expected).toContain('32 bytes');
    expect(issue?.received).toBeUndefined();
  });
});
