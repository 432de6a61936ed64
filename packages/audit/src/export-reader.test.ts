import { describe, expect, it } from 'vitest';
import { AuditError } from './errors.js';
import type { AuditEvent } from './event.js';
import { readVerifiedEvents } from './export-reader.js';
import { generateSigningKeyPair } from './keys.js';
import { sampleExportLines } from './sample-export.js';

const key = generateSigningKeyPair();

async function sample(events: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const line of sampleExportLines({
    events,
    signingKey: key.privateKeyPem,
    digestEvery: 10,
  }))
    lines.push(line);
  return lines;
}

describe('readVerifiedEvents', () => {
  it('hands over every event of a good export and then reports it verified', async () => {
    const reader = readVerifiedEvents(await sample(25), [key.publicKeyPem]);
    expect(() => reader.result()).toThrow(AuditError);
    const seqs: number[] = [];
    for await (const event of reader.events) seqs.push(event.seq);
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(reader.result()).toMatchObject({ ok: true, events: 25, digests: 4 });
  });

  it('stops at a changed event and reports the failure', async () => {
    const lines = await sample(25);
    const at = lines.findIndex((l) => l.includes('"id":"evt-12"'));
    lines[at] = lines[at]!.replace('"traceId":"trace-', '"traceId":"trace-0');
    const reader = readVerifiedEvents(lines, [key.publicKeyPem]);
    const seen: AuditEvent[] = [];
    for await (const event of reader.events) seen.push(event);
    expect(seen.map((e) => e.seq)).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
    expect(reader.result()).toMatchObject({
      ok: false,
      failure: { code: 'HASH_MISMATCH', seq: 12, eventId: 'evt-12' },
    });
  });

  it('writes the same export for the same options (sample exports are deterministic)', async () => {
    const [a, b] = [await sample(5), await sample(5)];
    // Signatures are deterministic for ed25519, so whole lines match.
    expect(a).toEqual(b);
  });
});
