import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bundlePlugin } from './bundle.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../test/fixtures/${name}`, import.meta.url));
const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

describe('bundlePlugin', () => {
  it('packs one small script without zod or the Node harness, plus the JSON Schema manifest', async () => {
    const { code, manifest } = await bundlePlugin(fixture('http-echo.plugin.ts'));
    expect(code.length).toBeLessThan(8 * 1024);
    expect(code).not.toMatch(/ZodError|toJSONSchema|node:http|runAction/);
    expect(code).toContain('__rosterPlugin');
    expect(manifest).toMatchObject({
      id: 'http-echo',
      version: '1.0.0',
      connection: { schema: { type: 'object', required: ['token'] } },
      actions: {
        get: {
          uses: ['http'],
          input: { type: 'object', properties: { url: { type: 'string' } }, required: ['url'] },
          output: { type: 'object', required: ['status', 'body'] },
        },
      },
    });
  });

  it('explains an entry without a default connector export', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roster-bundle-'));
    scratch.push(dir);
    const entry = join(dir, 'plugin.ts');
    await writeFile(entry, 'export const nothing = 1;\n');
    await expect(bundlePlugin(entry)).rejects.toMatchObject({
      code: 'BUNDLE_INVALID',
      message: /export default defineConnector/,
    });
  });

  it('reports syntax errors as BUNDLE_FAILED', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'roster-bundle-'));
    scratch.push(dir);
    const entry = join(dir, 'plugin.ts');
    await writeFile(entry, 'export default {{;\n');
    await expect(bundlePlugin(entry)).rejects.toMatchObject({ code: 'BUNDLE_FAILED' });
  });
});
