import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@roster/config';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { registerModelCommand } from './register-model.js';

// `roster model register` against a real database: labels and featurizer default to the file's
// own metadata; a file that is not ONNX and an unknown tenant are refused with what to change.
const DEMO_MODEL_FILE = fileURLToPath(
  new URL('../../../../../gpu-runners/models/email-triage/out/model.onnx', import.meta.url),
);
const db = await createTestDatabase();
afterAll(() => db.drop());
const home = mkdtempSync(join(tmpdir(), 'roster-model-cli-'));
// The app password must stay the one the test server uses (migrate sets it on the shared role).
const config = loadConfig({
  DATABASE_URL: db.ownerUrl,
  DATABASE_APP_PASSWORD: decodeURIComponent(new URL(db.appUrl).password),
  ROSTER_HOME: home,
});
const lines: string[] = [];
const say = (line: string) => lines.push(line);

describe('roster model register', () => {
  it('registers the demo model for a tenant by slug, reading labels and featurizer from the file', async () => {
    const tenant = await createTenant(db.ownerPool, 'Cli');
    const version = await registerModelCommand(
      config,
      DEMO_MODEL_FILE,
      { tenant: tenant.slug },
      say,
    );
    expect(version).toMatchObject({ modelName: 'model', version: 1, labels: ['ham', 'spam'] });
    expect(version.featurizer).toMatchObject({ kind: 'hashed-ngrams' });
    expect(lines.at(-1)).toContain(`sha-256 ${version.sha256}`);
    const { rows } = await db.ownerPool.query(
      'SELECT tenant_id FROM model_versions WHERE id = $1',
      [version.id],
    );
    expect(rows).toEqual([{ tenant_id: tenant.id }]);
  });

  it('refuses a file that is not ONNX and a tenant that does not exist', async () => {
    const tenant = await createTenant(db.ownerPool, 'Cli');
    const junk = join(home, 'notes.onnx');
    writeFileSync(junk, 'not a model');
    await expect(
      registerModelCommand(config, junk, { tenant: tenant.slug, labels: 'a,b', name: 'x' }, say),
    ).rejects.toMatchObject({ code: 'INVALID_MODEL' });
    await expect(
      registerModelCommand(config, DEMO_MODEL_FILE, { tenant: 'no-such-tenant' }, say),
    ).rejects.toMatchObject({ code: 'TENANT_NOT_FOUND' });
  });
});
