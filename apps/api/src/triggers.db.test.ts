import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';

// Schedules and workflow callbacks through GraphQL: validation naming the field, secrets shown
// once, and other tenants' ids answering NOT_FOUND.
const api = await startTestApi();
const owner = await api.signUp('Triggers');
const stranger = await api.signUp('Stranger');
const wf = await api.gql(
  'mutation { createWorkflow(input: { name: "scheduled" }) { workflow { id } } }',
  {},
  owner.token,
);
const workflowId = wf.data?.createWorkflow.workflow.id as string;

const CREATE = `mutation($i: CreateScheduleInput!) { createSchedule(input: $i) {
  schedule { id cron timezone enabled nextFireAt input } } }`;
const UPDATE = `mutation($i: UpdateScheduleInput!) { updateSchedule(input: $i) {
  schedule { enabled cron nextFireAt } } }`;
const CALLBACK = `mutation($i: SetWorkflowCallbackInput!) { setWorkflowCallback(input: $i) {
  signingSecret callback { url } } }`;

describe('schedules over GraphQL', () => {
  it('creates, disables, re-enables and deletes a schedule; bad cron and zones name their field', async () => {
    const created = await api.gql(
      CREATE,
      {
        i: {
          workflowId,
          name: 'nightly',
          cron: '0 2 * * *',
          timezone: 'America/New_York',
          input: { a: 1 },
        },
      },
      owner.token,
    );
    const schedule = created.data?.createSchedule.schedule;
    expect(schedule).toMatchObject({
      cron: '0 2 * * *',
      timezone: 'America/New_York',
      enabled: true,
      input: { a: 1 },
    });
    const next = new Date(schedule.nextFireAt);
    expect(next.getTime()).toBeGreaterThan(Date.now());
    expect(next.getUTCMinutes()).toBe(0);
    expect([6, 7]).toContain(next.getUTCHours()); // 02:00 in New York (EST or EDT)

    const off = await api.gql(UPDATE, { i: { id: schedule.id, enabled: false } }, owner.token);
    expect(off.data?.updateSchedule.schedule).toMatchObject({ enabled: false, nextFireAt: null });
    const on = await api.gql(
      UPDATE,
      { i: { id: schedule.id, enabled: true, cron: '*/10 * * * *' } },
      owner.token,
    );
    expect(on.data?.updateSchedule.schedule.cron).toBe('*/10 * * * *');
    expect(new Date(on.data?.updateSchedule.schedule.nextFireAt).getUTCMinutes() % 10).toBe(0);

    const badCron = await api.gql(
      CREATE,
      { i: { workflowId, name: 'bad', cron: 'every day' } },
      owner.token,
    );
    expect(badCron.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.cron',
    });
    const badZone = await api.gql(
      CREATE,
      { i: { workflowId, name: 'bad', cron: '0 * * * *', timezone: 'Nowhere/City' } },
      owner.token,
    );
    expect(badZone.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'input.timezone',
    });

    // Another tenant cannot see, change or delete it: NOT_FOUND, as for a missing id.
    const foreign = await api.gql(
      UPDATE,
      { i: { id: schedule.id, enabled: false } },
      stranger.token,
    );
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const theirs = await api.gql('{ schedules(first: 10) { nodes { id } } }', {}, stranger.token);
    expect(theirs.data?.schedules.nodes).toEqual([]);

    const deleted = await api.gql(
      `mutation($i: DeleteScheduleInput!) { deleteSchedule(input: $i) { deletedId } }`,
      { i: { id: schedule.id } },
      owner.token,
    );
    expect(deleted.data?.deleteSchedule.deletedId).toBe(schedule.id);
    const mine = await api.gql('{ schedules(first: 10) { nodes { id } } }', {}, owner.token);
    expect(mine.data?.schedules.nodes).toEqual([]);
  });
});

describe('workflow callbacks over GraphQL', () => {
  it('shows the signing secret when it is created or rotated, never otherwise', async () => {
    const first = await api.gql(
      CALLBACK,
      { i: { workflowId, url: 'https://hooks.example.com/a' } },
      owner.token,
    );
    const secret = first.data?.setWorkflowCallback.signingSecret as string;
    expect(secret).toMatch(/^whsec_/);
    const moved = await api.gql(
      CALLBACK,
      { i: { workflowId, url: 'https://hooks.example.com/b' } },
      owner.token,
    );
    expect(moved.data?.setWorkflowCallback).toEqual({
      signingSecret: null,
      callback: { url: 'https://hooks.example.com/b' },
    });
    const rotated = await api.gql(
      CALLBACK,
      { i: { workflowId, url: 'https://hooks.example.com/b', rotateSecret: true } },
      owner.token,
    );
    expect(rotated.data?.setWorkflowCallback.signingSecret).toMatch(/^whsec_/);
    expect(rotated.data?.setWorkflowCallback.signingSecret).not.toBe(secret);
    const removed = await api.gql(CALLBACK, { i: { workflowId, url: null } }, owner.token);
    expect(removed.data?.setWorkflowCallback).toEqual({ signingSecret: null, callback: null });
  });

  it('refuses URLs that are not plain http(s) and other tenants’ workflows', async () => {
    for (const url of ['ftp://example.com/x', 'not a url', 'https://user:pw@example.com/x']) {
      const bad = await api.gql(CALLBACK, { i: { workflowId, url } }, owner.token);
      expect(bad.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'input.url',
      });
    }
    const foreign = await api.gql(
      CALLBACK,
      { i: { workflowId, url: 'https://example.com/' } },
      stranger.token,
    );
    expect(foreign.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

describe('trigger audit events', () => {
  it('record who changed what (schedule before/after), never a signing secret', async () => {
    const { rows: start } = await api.db.ownerPool.query(
      'SELECT coalesce(max(id), 0)::text AS id FROM audit_events',
    );
    const hook = await api.gql(
      `mutation($i: CreateWebhookTriggerInput!) { createWebhookTrigger(input: $i) { signingSecret webhookTrigger { id } } }`,
      { i: { workflowId, name: 'audited-hook' } },
      owner.token,
    );
    const created = await api.gql(
      CREATE,
      { i: { workflowId, name: 'audited', cron: '0 3 * * *' } },
      owner.token,
    );
    const scheduleId = created.data?.createSchedule.schedule.id;
    await api.gql(UPDATE, { i: { id: scheduleId, cron: '0 4 * * *' } }, owner.token);
    const callback = await api.gql(
      CALLBACK,
      { i: { workflowId, url: 'https://hooks.example.com/audited', rotateSecret: true } },
      owner.token,
    );
    const secrets = [
      hook.data?.createWebhookTrigger.signingSecret,
      callback.data?.setWorkflowCallback.signingSecret,
    ];
    expect(secrets.every((s) => typeof s === 'string' && s.startsWith('whsec_'))).toBe(true);

    const { rows } = await api.db.ownerPool.query(
      `SELECT kind, actor_type, actor_id, tenant_id, before, after,
              concat_ws(' ', data::text, before::text, after::text) AS text
         FROM audit_events WHERE id > $1 ORDER BY id`,
      [start[0].id],
    );
    expect(rows.map((r) => r.kind)).toEqual([
      'webhookTrigger.created',
      'schedule.created',
      'schedule.updated',
      'workflowCallback.set',
    ]);
    for (const row of rows) {
      expect([row.actor_type, row.actor_id, row.tenant_id]).toEqual([
        'member',
        owner.userId,
        owner.tenantId,
      ]);
      for (const secret of secrets) expect(row.text).not.toContain(secret);
    }
    const updated = rows[2];
    expect([updated.before.cron, updated.after.cron]).toEqual(['0 3 * * *', '0 4 * * *']);
    expect(rows[3].after).toEqual({ url: 'https://hooks.example.com/audited', secretIssued: true });
  });
});
