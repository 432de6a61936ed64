import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

/** Runs the plugin's vitest tests in its own folder; resolves to vitest's exit code. */
export function runPluginTests(dir: string): Promise<number> {
  const vitest = join(
    dirname(createRequire(import.meta.url).resolve('vitest/package.json')),
    'vitest.mjs',
  );
  const root = resolve(dir);
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [vitest, 'run', '--root', root], {
      cwd: root,
      stdio: 'inherit',
    });
    child.on('error', fail);
    child.on('exit', (code) => done(code ?? 1));
  });
}
