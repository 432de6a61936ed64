import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  checkConformance,
  PluginHostError,
  packPlugin,
  parsePublisherKey,
} from '@roster/plugin-host';
import { withSteps } from './progress.js';

export interface PackResult {
  readonly packageFile: string;
  readonly manifestFile: string;
  readonly integrity: string;
}

/**
 * Bundles `<dir>/src/index.ts` (esbuild), checks conformance, writes `dist/manifest.json` and
 * the signed package `dist/<id>-<version>.roster-plugin.json`.
 */
export async function packCommand(
  dir: string,
  options: { key: string; out?: string },
  say: (line: string) => void,
): Promise<PackResult> {
  const root = resolve(dir);
  const key = parsePublisherKey(
    JSON.parse(await readFile(resolve(options.key), 'utf8')),
    'private',
  );
  const outDir = resolve(options.out ?? join(root, 'dist'));
  return withSteps(['bundling', 'checking conformance', 'signing', 'writing'], async (step) => {
    const report = await checkConformance(join(root, 'src', 'index.ts'));
    step('checking conformance');
    const failed = report.results.filter((r) => r.problems.length > 0);
    if (!report.bundle || failed.length > 0) {
      throw new PluginHostError(
        'BUNDLE_INVALID',
        `The plugin does not conform:\n${failed.map((r) => `  - ${r.check}: ${r.problems.join(' ')}`).join('\n')}`,
      );
    }
    step('signing');
    const pkg = packPlugin(report.bundle, key);
    step('writing');
    await mkdir(outDir, { recursive: true });
    const { id, version } = pkg.manifest;
    const packageFile = join(outDir, `${id}-${version}.roster-plugin.json`);
    const manifestFile = join(outDir, 'manifest.json');
    await writeFile(manifestFile, `${JSON.stringify(pkg.manifest, null, 2)}\n`);
    await writeFile(packageFile, `${JSON.stringify(pkg)}\n`);
    step('done');
    say(`Packed ${id}@${version} (${Buffer.byteLength(pkg.code)} bytes of code)`);
    say(`  ${packageFile}`);
    say(`  integrity ${pkg.integrity}`);
    say(`  signed by ${key.publisher} (${key.keyId})`);
    return { packageFile, manifestFile, integrity: pkg.integrity };
  });
}
