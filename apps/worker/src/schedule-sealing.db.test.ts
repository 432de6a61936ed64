import { fileURLToPath } from 'node:url';
import { withTenant } from '@roster/db';
import { createSchedule, SCHEDULES_TICK_TASK, startRun } from '@roster/engine';
import { createPersonalDataVault } from '@roster/governance';
import { createLocalKeyProvider } from '@roster/plugin-host';
import { createTenant, createTestDatabase } from '@roster/testkit';
import { afterAll, expect, it } from 'vitest';
import { createWorkflow, waitFor } from '../test/fixtures.js';
import { SEALING_TEST_MASTER_KEY } from '../test/sealing-executors.js';
import { startWorkers } from './supervisor.js';

// A schedule fired inside a worker process (spawned as `roster up` does, its executor module
// holding the key provider) stores the e-mail address in the run's input sealed, and the
// connector step still gets the plaintext.
const db = await createTestDatabase();
const tenant = await createTenant(db.ownerPool, 'Sealed schedules');
const workers = startWorkers({
  count: 1,
  appUrl: db.appUrl,
  pollIntervalMs: 100,
  sweepMs: 200,
  executorModule: fileURLToPath(new URL('../test/sealing-executors.ts', import.meta.url)),
});
await workers.ready;
afterAll(async () => {
  await workers.stop();
  await db.drop();
});

it('a scheduled run holds the address sealed; its connector step sees the plaintext', async () => {
  const email = 'dana.schedule@customer.test';
  const workflowId = await createWorkflow(db.ownerPool, tenant.id, {
    start: 'notify',
    steps: {
      notify: {
        type: 'connector',
        connector: 'test',
        action: 'notify',
        input: '{ "to": input.contact }',
        end: true,
      },
    },
  });
  const schedule = await createSchedule(db.appPool, tenant.id, {
    workflowId,
    name: 'weekly-digest',
    cron: '* * * * *',
    input: { contact: email, list: 'digest' },
    createdBy: null,
  });
  // Due in a minute of 2099, fired by a tick job as the crontab would add it.
  const minute = new Date('2099-01-01T00:00:00Z');
  await db.ownerPool.query('UPDATE schedules SET next_fire_at = $2 WHERE id = $1', [
    schedule.id,
    minute,
  ]);
  await db.appPool.query('SELECT graphile_worker.add_job($1, $2::json)', [
    SCHEDULES_TICK_TASK,
    JSON.stringify({ _cron: { ts: minute.toISOString(), backfilled: false } }),
  ]);
  const run = await waitFor(
    async () => {
      const { rows } = await db.ownerPool.query<{
        id: string;
        status: string;
        input: { contact: string; list: string };
        output: unknown;
      }>('SELECT id, status, input, output FROM runs WHERE workflow_id = $1', [workflowId]);
      return rows[0] && ['succeeded', 'failed'].includes(rows[0].status) ? rows[0] : undefined;
    },
    30_000,
    'the scheduled run to end',
  );
  expect(run.status).toBe('succeeded');
  // Stored sealed: a token where the address was; only the tenant's vault opens it.
  expect(JSON.stringify(run.input)).not.toContain(email);
  expect(run.input).toMatchObject({ contact: expect.stringMatching(/^\[\[pd1:/), list: 'digest' });
  const vault = createPersonalDataVault(
    createLocalKeyProvider({ masterKey: SEALING_TEST_MASTER_KEY }),
  );
  const opened = await withTenant(db.appPool, tenant.id, ({ client }) =>
    vault.open(client, tenant.id, run.input),
  );
  expect(opened).toEqual({ contact: email, list: 'digest' });
  // The connector got the plaintext: only it has a domain after '@'.
  expect(run.output).toEqual({ domain: 'customer.test' });
});

it('a child run started by callWorkflow holds an address its parent built sealed', async () => {
  const email = 'erin.child@child.test';
  const childId = await createWorkflow(db.ownerPool, tenant.id, {
    start: 'notify',
    steps: {
      notify: {
        type: 'connector',
        connector: 'test',
        action: 'notify',
        input: '{ "to": input.to }',
        end: true,
      },
    },
  });
  const { rows: names } = await db.ownerPool.query<{ name: string }>(
    'SELECT name FROM workflows WHERE id = $1',
    [childId],
  );
  const parentId = await createWorkflow(db.ownerPool, tenant.id, {
    start: 'call',
    steps: {
      // The address exists only once the parent builds it: the parent's input holds none.
      call: {
        type: 'callWorkflow',
        workflow: names[0]?.name as string,
        input: '{ "to": input.user & "@" & input.domain }',
        end: true,
      },
    },
  });
  await startRun(db.appPool, tenant.id, {
    workflowId: parentId,
    input: { user: 'erin.child', domain: 'child.test' },
  });
  const child = await waitFor(
    async () => {
      const { rows } = await db.ownerPool.query<{
        status: string;
        input: { to: string };
        output: unknown;
      }>('SELECT status, input, output FROM runs WHERE workflow_id = $1', [childId]);
      return rows[0] && ['succeeded', 'failed'].includes(rows[0].status) ? rows[0] : undefined;
    },
    30_000,
    'the child run to end',
  );
  expect(child.status).toBe('succeeded');
  expect(JSON.stringify(child.input)).not.toContain(email);
  expect(child.input).toMatchObject({ to: expect.stringMatching(/^\[\[pd1:/) });
  // Its connector step still got the plaintext.
  expect(child.output).toEqual({ domain: 'child.test' });
});
