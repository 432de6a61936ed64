import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { PluginHostError } from './errors.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const entry = join(here, import.meta.url.endsWith('.ts') ? 'worker-main.ts' : 'worker-main.js');

// Installed packages stay external, imported by absolute path, so the script can live in a
// temp folder and the WASM package still finds its .wasm file next to itself.
const externalPackages: Plugin = {
  name: 'roster-external-packages',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, async (args) => {
      if (args.pluginData === 'inner' || args.path.startsWith('node:')) return undefined;
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        resolveDir: args.resolveDir,
        pluginData: 'inner',
      });
      if (resolved.errors.length > 0) return { errors: resolved.errors };
      if (
        resolved.external ||
        !resolved.path.includes('/node_modules/') ||
        /\.tsx?$/.test(resolved.path)
      ) {
        return resolved;
      }
      return { path: resolved.path, external: true };
    });
  },
};

let prepared: Promise<string> | undefined;

/**
 * Builds the worker entry into one ESM file once per process: workers then start in plain
 * Node (~100 ms) whether this package runs from TypeScript sources or compiled output.
 */
export function workerScript(): Promise<string> {
  prepared ??= (async () => {
    try {
      const result = await build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        logLevel: 'silent',
        plugins: [externalPackages],
      });
      const text = result.outputFiles[0]!.text;
      const dir = join(tmpdir(), 'roster-plugin-host');
      await mkdir(dir, { recursive: true });
      const file = join(
        dir,
        `worker-${createHash('sha256').update(text).digest('hex').slice(0, 16)}.mjs`,
      );
      await writeFile(file, text);
      return file;
    } catch (error) {
      prepared = undefined;
      throw new PluginHostError(
        'BUNDLE_FAILED',
        `Could not build the sandbox worker script: ${String(error)}`,
        {},
        {
          cause: error,
        },
      );
    }
  })();
  return prepared;
}
