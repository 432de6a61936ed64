import { randomUUID } from 'node:crypto';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type PluginManifest, sdkNodeEntry, sdkRuntimeEntry } from '@roster/plugin-sdk';
import { build, type Plugin } from 'esbuild';
import { PluginHostError } from './errors.js';

export interface PluginBundle {
  /** One script for QuickJS; it sets `globalThis.__rosterPlugin` to the entry's exports. */
  readonly code: string;
  readonly manifest: PluginManifest;
}

export interface BundleOptions {
  /** Default true. */
  readonly minify?: boolean;
}

// Inside the sandbox zod schemas are never used (the host validates against the manifest's
// JSON Schema), so `zod` becomes an inert stand-in: any property or call returns itself.
// Plugins import `{ z }` (or the default export) from 'zod'.
const ZOD_STUB = `const h={get:(t,p)=>p==='then'||p===Symbol.toPrimitive||p==='toJSON'?undefined:s,apply:()=>s};const s=new Proxy(function(){},h);export const z=s;export default s;`;

const sandboxAliases: Plugin = {
  name: 'roster-sandbox-aliases',
  setup(b) {
    b.onResolve({ filter: /^zod(\/.*)?$/ }, () => ({ path: 'zod', namespace: 'roster-zod-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'roster-zod-stub' }, () => ({
      contents: ZOD_STUB,
      loader: 'js',
    }));
    b.onResolve({ filter: /^@roster\/plugin-sdk$/ }, () => ({ path: sdkRuntimeEntry }));
  },
};

function bundleFailure(entryFile: string, error: unknown): PluginHostError {
  const errors = (error as { errors?: { text: string }[] }).errors;
  const text = errors?.map((e) => e.text).join('; ') ?? String(error);
  return new PluginHostError(
    'BUNDLE_FAILED',
    `Could not bundle ${entryFile}: ${text}`,
    { entryFile },
    { cause: error },
  );
}

/**
 * Packs a plugin: one JS file for the sandbox (no zod, no Node APIs) and the manifest with
 * JSON Schemas. The entry must `export default defineConnector(...)`. The manifest is made by
 * running the entry in this process, so bundle only code you would run at pack time.
 */
export async function bundlePlugin(
  entryFile: string,
  options: BundleOptions = {},
): Promise<PluginBundle> {
  const entry = resolve(entryFile);
  let code: string;
  try {
    const result = await build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'iife',
      globalName: '__rosterPlugin',
      platform: 'neutral',
      mainFields: ['module', 'main'],
      target: 'es2022',
      minify: options.minify ?? true,
      legalComments: 'none',
      logLevel: 'silent',
      plugins: [sandboxAliases],
    });
    code = result.outputFiles[0]!.text;
  } catch (error) {
    throw bundleFailure(entryFile, error);
  }
  return { code, manifest: await manifestOf(entry) };
}

async function manifestOf(entry: string): Promise<PluginManifest> {
  let text: string;
  try {
    const result = await build({
      stdin: {
        contents: `import plugin from ${JSON.stringify(entry)};\nimport { toManifest } from '@roster/plugin-sdk';\nexport const manifest = toManifest(plugin);\n`,
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      logLevel: 'silent',
      // Keep both references to the SDK on one copy (the entry's own resolution).
      alias: { '@roster/plugin-sdk': sdkNodeEntry },
    });
    text = result.outputFiles[0]!.text;
  } catch (error) {
    const failure = bundleFailure(entry, error);
    // The sandbox build already parsed the code, so this is about the entry's exports.
    throw new PluginHostError(
      'BUNDLE_INVALID',
      `${entry} must \`export default defineConnector({...})\`: ${failure.message}`,
      { entryFile: entry },
      { cause: error },
    );
  }
  const file = join(tmpdir(), `roster-manifest-${randomUUID()}.mjs`);
  await writeFile(file, text);
  try {
    const loaded = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as {
      manifest?: PluginManifest;
    };
    if (!loaded.manifest) throw new Error('no manifest');
    return JSON.parse(JSON.stringify(loaded.manifest)) as PluginManifest;
  } catch (error) {
    throw new PluginHostError(
      'BUNDLE_INVALID',
      `${entry} must \`export default defineConnector({...})\`: ${(error as Error).message}`,
      { entryFile: entry },
      { cause: error },
    );
  } finally {
    await rm(file, { force: true });
  }
}
