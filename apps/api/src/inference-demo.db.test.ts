import { withTenant } from '@roster/db';
import { loadDemoModel, seedDemoInference, startDemoRunner } from '@roster/gpu-runners';
import { inferSync, newPoolToken, thresholdsFor } from '@roster/inference';
import { createTenant } from '@roster/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { startListeningApi } from '../test/inference-fixtures.js';

// What `roster up` does for the demo tenant: seed the trained email-triage model into a CPU pool
// (idempotently) and start one CPU runner; then raw emails are triaged through the API's queue.
const { db, url } = await startListeningApi();
const stops: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const stop of stops) await stop();
});

const SPAM = [
  'From: "Prize Center" <winner@lucky-draw.biz>',
  'Subject: CONGRATULATIONS!!! You have WON $1,000,000 - claim your FREE prize NOW',
  'Content-Type: text/html',
  '',
  '<html><body><font size=5>Dear Friend, you have been selected!!! Click here to claim your cash prize.',
  'Act now, this limited time offer expires today! 100% FREE, no risk. Order now and save 90%!',
  'To be removed from our mailing list click here.</font></body></html>',
].join('\r\n');

const HAM = [
  'From: Justin Mason <jm@jmason.org>',
  'Subject: Re: [SAdev] bug 1234: rules for the new release',
  'Content-Type: text/plain',
  '',
  'I had a look at the patch last night. The test suite passes on my box, but the scores for the',
  'new rules look a bit high; can you rerun the mass-check before we commit it to CVS?',
  '--j.',
].join('\r\n');

describe('the demo tenant', () => {
  it('seeds the demo model once, and a CPU runner triages raw emails', async () => {
    const tenant = await createTenant(db.ownerPool, 'Demo');
    const poolToken = newPoolToken();
    const model = await loadDemoModel();
    const first = await seedDemoInference(db.appPool, tenant.id, { poolToken, model });
    expect(first.created).toEqual(['pool', 'modelVersion', 'deployment']);
    const again = await seedDemoInference(db.appPool, tenant.id, { poolToken, model });
    expect(again).toMatchObject({ ...first, created: [] });
    const thresholds = await withTenant(db.appPool, tenant.id, ({ client }) =>
      thresholdsFor(client, tenant.id, null),
    );
    expect(thresholds.default).toBe(model.threshold);

    const runner = await startDemoRunner({ apiUrl: url, poolToken });
    stops.push(() => runner.stop());
    const spam = await inferSync(db.appPool, tenant.id, {
      model: 'email-triage',
      input: SPAM,
      deadlineMs: 20_000,
    });
    expect(spam).toMatchObject({ label: 'spam', modelVersion: first.sha256 });
    const ham = await inferSync(db.appPool, tenant.id, {
      model: 'email-triage',
      input: HAM,
      deadlineMs: 20_000,
    });
    expect(ham.label).toBe('ham');
  }, 60_000);
});
