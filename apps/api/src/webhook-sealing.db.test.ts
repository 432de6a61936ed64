import { randomBytes, randomUUID } from 'node:crypto';
import { type EngineOptions, ExecutorRegistry, signWebhook } from '@roster/engine';
import { createPersonalDataVault } from '@roster/governance';
import { createLocalKeyProvider } from '@roster/plugin-host';
import { type RunningWorkerPool, runWorkerPool, withPersonalData } from '@roster/worker';
import { afterAll, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';
import { toGlobalId } from './graphql/global-id.js';

// A run started by a signed webhook stores the e-mail address in its input sealed per data
// subject (as startRun and inbound e-mail do), and the connector step still gets the plaintext.
const keyProvider = createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') });
const vault = createPersonalDataVault(keyProvider);
const api = await startTestApi({ marketplace: { keyProvider, platformAdmins: [] } });
const owner = await api.signUp('Sealed hooks');

const seen: unknown[] = [];
const inner = new ExecutorRegistry().registerConnector(async (call) => {
  seen.push(call.input);
  return { output: { status: 'sent' } };
});
const sealInput: EngineOptions['sealInput'] = (client, tenantId, input) =>
  vault.seal(client, tenantId, input);
const worker: RunningWorkerPool = await runWorkerPool({
  appUrl: api.db.appUrl,
  executors: withPersonalData(inner, { pool: api.db.appPool, vault }),
  concurrency: 2,
  sweepMs: 100,
  pollIntervalMs: 100,
  sealInput,
});
afterAll(() => worker.stop());

it('a webhook carrying an e-mail address stores it sealed; the step sees the plaintext', async () => {
  const workflowId = await api.publishWorkflow(owner.token, 'hooked-replies', {
    start: 'reply',
    steps: {
      reply: {
        type: 'connector',
        connector: 'test',
        action: 'reply',
        input: '{ "to": input.customer.email }',
        end: true,
      },
    },
  });
  const trigger = await api.gql(
    'mutation($i: CreateWebhookTriggerInput!) { createWebhookTrigger(input: $i) { signingSecret webhookTrigger { path } } }',
    { i: { workflowId, name: 'crm' } },
    owner.token,
  );
  const { signingSecret, webhookTrigger } = (trigger.data?.createWebhookTrigger ?? {}) as {
    signingSecret: string;
    webhookTrigger: { path: string };
  };

  const email = `kim.${randomUUID().slice(0, 8)}@customer.test`;
  const body = JSON.stringify({ customer: { email, name: 'Kim' }, order: 77 });
  const response = await api.app.inject({
    method: 'POST',
    url: webhookTrigger.path,
    payload: body,
    headers: { 'content-type': 'application/json', ...signWebhook(signingSecret, 'msg_1', body) },
  });
  expect(response.statusCode).toBe(202);
  const runGlobalId = (JSON.parse(response.body) as { runId: string }).runId;
  const runId = Buffer.from(runGlobalId, 'base64url').toString('utf8').split(':')[1] as string;

  let status = '';
  for (let i = 0; i < 200 && !['succeeded', 'failed'].includes(status); i++) {
    await new Promise((r) => setTimeout(r, 50));
    const { rows } = await api.db.ownerPool.query('SELECT status FROM runs WHERE id = $1', [runId]);
    status = rows[0]?.status ?? '';
  }
  expect(status).toBe('succeeded');

  // Stored: a sealed token where the address was, the rest as sent.
  const { rows } = await api.db.ownerPool.query<{ input: Record<string, unknown> }>(
    'SELECT input FROM runs WHERE id = $1',
    [runId],
  );
  const stored = rows[0]?.input as { customer: { email: string; name: string }; order: number };
  expect(JSON.stringify(stored)).not.toContain(email);
  expect(stored.customer.email).toMatch(/^\[\[pd1:/);
  expect(stored).toMatchObject({ customer: { name: 'Kim' }, order: 77 });
  const { rows: steps } = await api.db.ownerPool.query(
    'SELECT count(*)::int AS n FROM step_runs WHERE run_id = $1 AND (output::text ILIKE $2 OR error::text ILIKE $2)',
    [runId, `%${email}%`],
  );
  expect(steps[0]?.n).toBe(0);

  // The connector step got the plaintext; a reader sees the address opened.
  expect(seen).toEqual([{ to: email }]);
  const shown = await api.gql(
    'query($id: ID!) { run(id: $id) { input } }',
    { id: toGlobalId('Run', runId) },
    owner.token,
  );
  expect(shown.data?.run.input).toEqual({ customer: { email, name: 'Kim' }, order: 77 });
});
