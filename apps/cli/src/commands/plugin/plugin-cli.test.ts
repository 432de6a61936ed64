import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('../../../../../', import.meta.url));
let tmp: string;

/** Runs the real CLI as a child process, the way an author would. */
function roster(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', 'apps/cli/src/main.ts', 'plugin', ...args],
      { cwd: repo, timeout: 120_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? Number((error as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr,
        }),
    );
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'roster-plugin-cli-'));
  // Stands in for `npm install` in the author's folder: the SDK, zod and vitest resolve from here.
  await symlink(join(repo, 'node_modules'), join(tmp, 'node_modules'), 'dir');
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('roster plugin init → test → pack → verify', () => {
  it('produces a signed package that verify accepts, and refuses a tampered one', async () => {
    const dir = join(tmp, 'acme-crm');
    const init = await roster('init', 'acme-crm', '--dir', dir);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(await readFile(join(dir, 'src', 'index.ts'), 'utf8')).toContain("id: 'acme-crm'");

    const tested = await roster('test', dir);
    expect(tested.code).toBe(0);
    // A failing plugin test fails the command.
    const testFile = join(dir, 'src', 'plugin.test.ts');
    const testSource = await readFile(testFile, 'utf8');
    await writeFile(testFile, testSource.replace("name: 'Widget' }", "name: 'Gadget' }"));
    expect((await roster('test', dir)).code).not.toBe(0);
    await writeFile(testFile, testSource);

    const keys = await roster('keygen', '--publisher', 'acme', '--out', tmp);
    expect(keys.code).toBe(0);
    expect(await roster('keygen', '--publisher', 'acme', '--out', tmp)).toMatchObject({ code: 1 });

    const packed = await roster('pack', dir, '--key', join(tmp, 'acme.key.json'));
    expect(packed.code).toBe(0);
    const file = join(dir, 'dist', 'acme-crm-0.1.0.roster-plugin.json');
    const manifest = JSON.parse(await readFile(join(dir, 'dist', 'manifest.json'), 'utf8'));
    expect(manifest).toMatchObject({ id: 'acme-crm', connection: { test: 'testConnection' } });
    expect(Object.keys(manifest.actions)).toEqual(['getItem', 'testConnection']);

    const verified = await roster('verify', file, '--trust', join(tmp, 'acme.pub.json'));
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(
      /^OK acme-crm@0\.1\.0 signed by acme \(ed25519:[0-9a-f]{16}\), sha512-/,
    );

    const pkg = JSON.parse(await readFile(file, 'utf8'));
    const tampered = join(tmp, 'tampered.roster-plugin.json');
    await writeFile(tampered, JSON.stringify({ ...pkg, code: `${pkg.code};globalThis.x=1` }));
    const refused = await roster('verify', tampered, '--trust', join(tmp, 'acme.pub.json'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/INTEGRITY_MISMATCH/);

    await roster('keygen', '--publisher', 'other', '--out', tmp);
    const untrusted = await roster('verify', file, '--trust', join(tmp, 'other.pub.json'));
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/UNKNOWN_PUBLISHER/);
  }, 300_000);
});
