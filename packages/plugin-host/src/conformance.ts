import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { type BundleOptions, bundlePlugin, type PluginBundle } from './bundle.js';
import { checkManifestShape } from './verify-package.js';

export interface ConformanceResult {
  readonly check: string;
  /** Empty when the check passed; otherwise what to change. */
  readonly problems: readonly string[];
}

export interface ConformanceOptions extends BundleOptions {
  /** Default 32 KiB: QuickJS parses the whole bundle on every invocation. */
  readonly maxBundleBytes?: number;
}

export interface ConformanceReport {
  readonly bundle: PluginBundle | undefined;
  readonly results: readonly ConformanceResult[];
}

// Markers of zod's runtime; the bundler swaps zod for a stub, so any of these means a leak.
const ZOD_MARKERS = /ZodError|ZodType|\$ZodCheck|toJSONSchema|safeParse/;
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;
const ALLOWED_IMPORTS = new Set(['@roster/plugin-sdk', 'zod']);

async function sourceFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await sourceFiles(path)));
    else if (/\.[cm]?[jt]s$/.test(entry.name) && !/\.test\.[cm]?[jt]s$/.test(entry.name))
      files.push(path);
  }
  return files;
}

/**
 * The checks every plugin must pass (STYLE: one conformance suite for all plugins). Each
 * plugin's own test runs it on its entry and expects no problems.
 */
export async function checkConformance(
  entryFile: string,
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const maxBytes = options.maxBundleBytes ?? 32 * 1024;
  let bundle: PluginBundle;
  try {
    bundle = await bundlePlugin(entryFile, options);
  } catch (error) {
    return {
      bundle: undefined,
      results: [{ check: 'bundles, with a valid manifest', problems: [(error as Error).message] }],
    };
  }
  const { manifest, code } = bundle;
  const results: ConformanceResult[] = [];
  const check = (name: string, problems: string[]) => results.push({ check: name, problems });

  const shape: string[] = [];
  try {
    checkManifestShape(manifest);
  } catch (error) {
    shape.push((error as Error).message);
  }
  check('bundles, with a valid manifest', shape);

  const schemas: string[] = [];
  for (const [id, action] of Object.entries(manifest.actions)) {
    if (action.input.type !== 'object')
      schemas.push(`Action "${id}": input must be z.object(...).`);
    if (typeof action.output.type !== 'string') {
      schemas.push(`Action "${id}": output needs a schema with a JSON type (z.object(...)).`);
    }
  }
  check('every action has input and output schemas', schemas);

  const test = manifest.connection?.test;
  check(
    'the connection has a test action',
    manifest.connection === null
      ? ['Declare connection: { schema, test } so a tenant can test the credentials.']
      : test === undefined || !Object.hasOwn(manifest.actions, test)
        ? ['Set connection.test to the id of an action that checks the credentials.']
        : [],
  );

  check(
    'the bundle contains no zod',
    ZOD_MARKERS.test(code)
      ? ['The bundle contains zod: import { z } from "zod" only, never a zod subpath or a copy.']
      : [],
  );

  const bytes = Buffer.byteLength(code);
  check(
    `the bundle is at most ${maxBytes} bytes`,
    bytes > maxBytes
      ? [`The bundle is ${bytes} bytes: drop dependencies or split the plugin.`]
      : [],
  );

  const root = dirname(entryFile);
  const imports: string[] = [];
  for (const file of await sourceFiles(root)) {
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(IMPORT)) {
      const specifier = match[1]!;
      if (!specifier.startsWith('.') && !ALLOWED_IMPORTS.has(specifier)) {
        imports.push(
          `${relative(root, file)} imports "${specifier}": plugins use the SDK's capabilities only.`,
        );
      }
    }
  }
  check('imports only @roster/plugin-sdk and zod', imports);
  return { bundle, results };
}
