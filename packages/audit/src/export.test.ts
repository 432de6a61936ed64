import { describe, expect, it } from 'vitest';
import { buildTenantLog, exportLines } from '../test/export-fixture.js';
import { canonicalize } from './canonical-json.js';
import { appendToChain, hashEvent, headOf } from './chain.js';
import { digestHash, signDigest } from './digest.js';
import type { AuditEvent } from './event.js';
import { verifyExport } from './export-verifier.js';
import { writeExport } from './export-writer.js';
import { generateSigningKeyPair } from './keys.js';
import { splitLines, withNewlines } from './lines.js';

const key = generateSigningKeyPair();
const trusted = [key.publicKeyPem];
const log = buildTenantLog('tenant-a', 30, 5, key.privateKeyPem);

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('JSONL export', () => {
  it('verifies an untouched export from the start of the chain', async () => {
    const lines = await exportLines(log, key.privateKeyPem);
    expect(lines).toHaveLength(1 + 30 + log.digests.length);
    const result = await verifyExport(lines, trusted);
    expect(result).toEqual({
      ok: true,
      tenantId: 'tenant-a',
      periodStart: log.digests[0]!.periodEnd,
      periodEnd: log.digests.at(-1)!.periodEnd,
      firstSeq: 1,
      lastSeq: 30,
      lastHash: log.events[29]!.hash,
      events: 30,
      digests: log.digests.length,
      keyIds: [key.keyId],
    });
  });

  it('verifies an export that starts after a digest, anchored by that digest', async () => {
    const lines = await exportLines(log, key.privateKeyPem, 2);
    const result = await verifyExport(lines, trusted);
    expect(result).toMatchObject({ ok: true, firstSeq: 11, lastSeq: 30, events: 20 });
  });

  it('verifies a file read in chunks that split lines and multibyte characters', async () => {
    const unicodeLog = buildTenantLog('tenant-ü', 12, 4, key.privateKeyPem);
    const unicodeText = (
      await collect(withNewlines(await exportLines(unicodeLog, key.privateKeyPem)))
    ).join('');
    const unicodeBytes = Buffer.from(unicodeText, 'utf8');
    expect(unicodeBytes.length).toBeGreaterThan(unicodeText.length);
    const chunks: Buffer[] = [];
    for (let at = 0; at < unicodeBytes.length; at += 7)
      chunks.push(unicodeBytes.subarray(at, at + 7));
    expect(await verifyExport(splitLines(chunks), trusted)).toMatchObject({ ok: true, events: 12 });
    expect(
      await verifyExport(splitLines([unicodeText.replaceAll('\n', '\r\n')]), trusted),
    ).toMatchObject({ ok: true });
  });

  it('verifies digests signed by a retired key when both keys are trusted', async () => {
    const next = generateSigningKeyPair();
    const lines = await collect(
      writeExport({
        tenantId: 'tenant-a',
        periodStart: '2025-03-01T00:00:00.000Z',
        periodEnd: '2025-03-02T00:00:00.000Z',
        exportedAt: '2025-03-02T00:00:00.000Z',
        firstSeq: 1,
        digests: log.digests,
        events: log.events,
        signingKey: next.privateKeyPem,
      }),
    );
    expect(await verifyExport(lines, [key.publicKeyPem, next.publicKeyPem])).toMatchObject({
      ok: true,
      keyIds: [next.keyId, key.keyId],
    });
    expect(await verifyExport(lines, [next.publicKeyPem])).toMatchObject({
      ok: false,
      failure: { code: 'UNKNOWN_KEY', line: 2 },
    });
  });

  it('fails at line 1 when the public key does not match', async () => {
    const lines = await exportLines(log, key.privateKeyPem);
    const stranger = generateSigningKeyPair();
    expect(await verifyExport(lines, [stranger.publicKeyPem])).toEqual({
      ok: false,
      failure: expect.objectContaining({ code: 'UNKNOWN_KEY', line: 1, seq: null }),
    });
  });

  it('names the edited event', async () => {
    const lines = await exportLines(log, key.privateKeyPem);
    const index = lines.findIndex((l) => l.includes('"seq":17,'));
    const record = JSON.parse(lines[index]!);
    record.actor.id = 'someone-else';
    lines[index] = canonicalize(record);
    expect(await verifyExport(lines, trusted)).toEqual({
      ok: false,
      failure: {
        code: 'HASH_MISMATCH',
        line: index + 1,
        seq: 17,
        eventId: 'tenant-a-evt-17',
        message: expect.stringContaining('changed'),
      },
    });
  });

  it('blames the events since the last digest when they were re-hashed consistently', async () => {
    const lines = await exportLines(log, key.privateKeyPem);
    // Rewrite seq 13 and re-hash it and its successors: only the signed digest at seq 15 disagrees.
    let prev: string | undefined;
    for (let i = 0; i < lines.length; i++) {
      const record = JSON.parse(lines[i]!);
      if (record.type !== 'event' || record.seq < 13) continue;
      if (record.seq === 13) record.data = { note: 'rewritten' };
      if (prev !== undefined) record.prevHash = prev;
      const { type: _type, ...event } = record;
      record.hash = hashEvent(event, record.prevHash);
      prev = record.hash;
      lines[i] = canonicalize(record);
    }
    const result = await verifyExport(lines, trusted);
    expect(result).toMatchObject({
      ok: false,
      failure: { code: 'DIGEST_HEAD_MISMATCH', seq: 11, eventId: 'tenant-a-evt-11' },
    });
    expect(result.ok || result.failure.message).toContain('seq 11..15');
  });

  it('refuses an export that starts mid-chain without its opening digest', async () => {
    const lines = await exportLines(log, key.privateKeyPem, 2);
    expect(JSON.parse(lines[1]!).headSeq).toBe(10);
    lines.splice(1, 1);
    const result = await verifyExport(lines, trusted);
    expect(result).toMatchObject({
      ok: false,
      failure: { code: 'MISSING_OPENING_DIGEST', seq: 11 },
    });
  });

  it('reports a file cut short with the first missing seq', async () => {
    const lines = await exportLines(log, key.privateKeyPem);
    const cut = lines.findIndex((l) => l.includes('"seq":22,'));
    const result = await verifyExport(lines.slice(0, cut + 1), trusted);
    expect(result).toMatchObject({
      ok: false,
      failure: { code: 'TRUNCATED', seq: 23, line: cut + 2 },
    });
    expect(await verifyExport([], trusted)).toMatchObject({
      ok: false,
      failure: { code: 'TRUNCATED', line: 1 },
    });
  });

  it('refuses blank lines inside the file but accepts them at the end', async () => {
    const lines = await exportLines(log, key.privateKeyPem);
    expect((await verifyExport([...lines, '', ''], trusted)).ok).toBe(true);
    const withGap = [...lines.slice(0, 5), '', ...lines.slice(5)];
    expect(await verifyExport(withGap, trusted)).toMatchObject({
      ok: false,
      failure: { code: 'MALFORMED_LINE', line: 6 },
    });
  });

  it('exports a period without events between two digests', async () => {
    const quiet = buildTenantLog('tenant-q', 5, 5, key.privateKeyPem);
    const [opening] = quiet.digests.slice(1);
    const repeat = signDigest(
      {
        tenantId: 'tenant-q',
        headSeq: opening!.headSeq,
        headHash: opening!.headHash,
        previousDigestHash: digestHash(opening!),
        periodStart: opening!.periodEnd,
        periodEnd: '2025-03-01T02:00:00.000Z',
        signedAt: '2025-03-01T02:00:00.000Z',
      },
      key.privateKeyPem,
    );
    const lines = await collect(
      writeExport({
        tenantId: 'tenant-q',
        periodStart: opening!.periodEnd,
        periodEnd: repeat.periodEnd,
        exportedAt: repeat.periodEnd,
        firstSeq: 6,
        digests: [opening!, repeat],
        events: [],
        signingKey: key.privateKeyPem,
      }),
    );
    expect(await verifyExport(lines, trusted)).toMatchObject({
      ok: true,
      events: 0,
      digests: 2,
      firstSeq: 6,
      lastSeq: 5,
    });
  });

  it('refuses to write an export whose events do not link up', async () => {
    const gap = log.events.filter((e) => e.seq !== 8);
    const write = collect(
      writeExport({
        tenantId: 'tenant-a',
        periodStart: '2025-03-01T00:00:00.000Z',
        periodEnd: '2025-03-02T00:00:00.000Z',
        exportedAt: '2025-03-02T00:00:00.000Z',
        firstSeq: 1,
        digests: log.digests,
        events: gap,
        signingKey: key.privateKeyPem,
      }),
    );
    await expect(write).rejects.toMatchObject({ code: 'AUDIT_EXPORT_INCONSISTENT' });
  });

  it('refuses to write an export that starts mid-chain without the opening digest', async () => {
    const write = collect(
      writeExport({
        tenantId: 'tenant-a',
        periodStart: '2025-03-01T00:00:00.000Z',
        periodEnd: '2025-03-02T00:00:00.000Z',
        exportedAt: '2025-03-02T00:00:00.000Z',
        firstSeq: 12,
        digests: log.digests.slice(3),
        events: log.events.slice(11),
        signingKey: key.privateKeyPem,
      }),
    );
    await expect(write).rejects.toMatchObject({ code: 'AUDIT_EXPORT_INCONSISTENT' });
  });

  it('refuses to write events past the last digest', async () => {
    const extra: AuditEvent = appendToChain(headOf(log.events.at(-1)!), {
      id: 'late',
      tenantId: 'tenant-a',
      occurredAt: '2025-03-02T00:00:00.000Z',
      actor: { type: 'system', id: 'clock' },
      action: 'run.start',
      subject: { type: 'run', id: 'r' },
      traceId: null,
      data: {},
    });
    const write = collect(
      writeExport({
        tenantId: 'tenant-a',
        periodStart: '2025-03-01T00:00:00.000Z',
        periodEnd: '2025-03-02T00:00:00.000Z',
        exportedAt: '2025-03-02T00:00:00.000Z',
        firstSeq: 1,
        digests: log.digests,
        events: [...log.events, extra],
        signingKey: key.privateKeyPem,
      }),
    );
    await expect(write).rejects.toMatchObject({ code: 'AUDIT_EXPORT_INCONSISTENT' });
  });
});
