import type { KeyObject } from 'node:crypto';
import {
  type AuditDigest,
  type AuditEvent,
  appendToChain,
  type ChainHead,
  digestHash,
  genesisHead,
  headOf,
  signDigest,
  writeExport,
} from '../src/index.js';

/** Deterministic PRNG (mulberry32) so that every random tampering can be replayed. */
export function prng(seed: number): { next(): number; int(n: number): number } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n) };
}

const ACTIONS = [
  'workflow.create',
  'workflow.update',
  'run.start',
  'review.approve',
  'member.invite',
];
const T0 = Date.parse('2025-03-01T00:00:00.000Z');

export interface TenantLog {
  events: AuditEvent[];
  /** A digest every `digestEvery` events (and one of the empty chain first). */
  digests: AuditDigest[];
}

/** A tenant's chain of `count` events with an hourly-style digest every `digestEvery` events. */
export function buildTenantLog(
  tenantId: string,
  count: number,
  digestEvery: number,
  key: KeyObject | string,
  seed = 1,
): TenantLog {
  const random = prng(seed);
  const events: AuditEvent[] = [];
  const digests: AuditDigest[] = [];
  let head: ChainHead = genesisHead(tenantId);
  const sign = (at: number) => {
    const previous = digests.at(-1);
    digests.push(
      signDigest(
        {
          tenantId,
          headSeq: head.seq,
          headHash: head.hash,
          previousDigestHash: previous === undefined ? null : digestHash(previous),
          periodStart: previous?.periodEnd ?? new Date(T0).toISOString(),
          periodEnd: new Date(at).toISOString(),
          signedAt: new Date(at).toISOString(),
        },
        key,
      ),
    );
  };
  sign(T0);
  for (let i = 1; i <= count; i++) {
    const at = T0 + i * 60_000;
    const event = appendToChain(head, {
      id: `${tenantId}-evt-${i}`,
      tenantId,
      occurredAt: new Date(at).toISOString(),
      actor: { type: i % 7 === 0 ? 'system' : 'member', id: `member-${random.int(5)}` },
      action: ACTIONS[random.int(ACTIONS.length)]!,
      subject: { type: 'workflow', id: `wf-${random.int(20)}` },
      traceId: random.next() < 0.8 ? `trace-${random.int(1e6)}` : null,
      ...(i % 3 === 0 ? { before: { name: `old ${i}` }, after: { name: `new ${i}` } } : {}),
      data: {
        amount: random.int(10_000) / 100,
        note: `event "${i}", line\nbreak`,
        tags: ['a', 'b'],
      },
    });
    events.push(event);
    head = headOf(event);
    if (i % digestEvery === 0) sign(at + 1);
  }
  if (count % digestEvery !== 0) sign(T0 + (count + 1) * 60_000);
  return { events, digests };
}

/** Exports events after digest `fromDigest` (an index into log.digests) to the end, as lines. */
export async function exportLines(
  log: TenantLog,
  key: KeyObject | string,
  fromDigest = 0,
): Promise<string[]> {
  const digests = log.digests.slice(fromDigest);
  const opening = digests[0]!;
  const firstSeq = opening.headSeq + 1;
  const lines: string[] = [];
  for await (const line of writeExport({
    tenantId: opening.tenantId,
    periodStart: opening.periodEnd,
    periodEnd: digests.at(-1)!.periodEnd,
    exportedAt: '2025-04-01T00:00:00.000Z',
    firstSeq,
    digests,
    events: log.events.filter((e) => e.seq >= firstSeq),
    signingKey: key,
  })) {
    lines.push(line);
  }
  return lines;
}
