import { sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTenantLog, exportLines, prng } from '../test/export-fixture.js';
import { canonicalize } from './canonical-json.js';
import { hashEvent } from './chain.js';
import { type VerifyFailure, verifyExport } from './export-verifier.js';
import { generateSigningKeyPair, keyIdOf, toPrivateKey } from './keys.js';
import { signRecord } from './signature.js';

// 1,000 seeded random tamperings of each kind; every one must be detected, and the failure
// must not blame anything before the first changed line.
const RUNS = 1000;
const key = generateSigningKeyPair();
const attacker = generateSigningKeyPair();
const trusted = [key.publicKeyPem];

type Rng = ReturnType<typeof prng>;
type Rec = Record<string, unknown>;
type Tampered = { lines: string[]; check: (failure: VerifyFailure) => void };

let exportsOfA: string[][];
let exportOfB: string[];

beforeAll(async () => {
  const a = buildTenantLog('tenant-a', 40, 5, key.privateKeyPem, 1);
  const b = buildTenantLog('tenant-b', 40, 5, key.privateKeyPem, 2);
  exportsOfA = [
    await exportLines(a, key.privateKeyPem),
    await exportLines(a, key.privateKeyPem, 3),
  ];
  exportOfB = await exportLines(b, key.privateKeyPem);
});

const parse = (line: string) => JSON.parse(line) as Rec;
const isEvent = (line: string) => parse(line).type === 'event';
const indexCache = new WeakMap<string[], Map<string, number[]>>();
/** Indexes of the lines of one record type in an untouched export (cached: exports are reused). */
function indexesOf(lines: string[], type: string): number[] {
  let byType = indexCache.get(lines);
  if (byType === undefined) {
    byType = new Map();
    lines.forEach((l, i) => {
      const t = parse(l).type as string;
      byType!.set(t, [...(byType!.get(t) ?? []), i]);
    });
    indexCache.set(lines, byType);
  }
  return byType.get(type) ?? [];
}
const pick = <T>(rng: Rng, items: readonly T[]): T => items[rng.int(items.length)]!;

/** Every path to a leaf value of a record, e.g. ['data', 'tags', 1]. */
function leafPaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value)
    ? value.map((v, i) => [i, v] as const)
    : Object.entries(value);
  return entries.flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
}

/** Changes one leaf so that it surely differs. */
function mutateAt(record: Rec, path: (string | number)[], rng: Rng): void {
  let parent = record as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  const old = parent[last];
  if (typeof old === 'string')
    parent[last] =
      old.length > 0 && rng.next() < 0.5
        ? `${old.slice(0, -1)}${old.at(-1) === 'x' ? 'y' : 'x'}`
        : `${old}x`;
  else if (typeof old === 'number') parent[last] = old + 1 + rng.int(3);
  else if (typeof old === 'boolean') parent[last] = !old;
  else parent[last] = 'x';
}

const CONTENT = /^(id|data|before|after|actor\.id|subject\.id)/;
function contentPath(record: Rec, rng: Rng): (string | number)[] {
  return pick(
    rng,
    leafPaths(record).filter((p) => CONTENT.test(p.join('.'))),
  );
}

/** Re-hashes every event from line `from` on, linking each to the one before (as a forger would). */
function rechain(lines: string[], from: number): void {
  let prev: string | undefined;
  for (let i = from; i < lines.length; i++) {
    const record = parse(lines[i]!);
    if (record.type !== 'event') continue;
    if (prev !== undefined) record.prevHash = prev;
    const { type: _type, ...event } = record;
    record.hash = hashEvent(event as never, record.prevHash as string);
    prev = record.hash as string;
    lines[i] = canonicalize(record);
  }
}

/** Re-signs a header or digest with the attacker's key, optionally claiming the trusted key id. */
function forgeSignature(record: Rec, claimTrustedKey: boolean): string {
  const { algorithm: _a, keyId: _k, signature: _s, ...unsigned } = record;
  if (!claimTrustedKey)
    return canonicalize(signRecord(unsigned as { type: string }, attacker.privateKeyPem));
  const claimed = { ...unsigned, algorithm: 'ed25519', keyId: keyIdOf(key.publicKeyPem) };
  const signature = sign(
    null,
    Buffer.from(canonicalize(claimed)),
    toPrivateKey(attacker.privateKeyPem),
  );
  return canonicalize({ ...claimed, signature: signature.toString('base64') });
}

const seqAt = (lines: string[], i: number) => parse(lines[i]!).seq as number;

const KINDS: Record<string, (base: string[], rng: Rng) => Tampered> = {
  'edit a field': (base, rng) => {
    const lines = [...base];
    const i = rng.int(lines.length);
    const record = parse(lines[i]!);
    const variant = record.type === 'event' ? rng.int(3) : 0;
    if (variant === 0) {
      const path = pick(rng, leafPaths(record));
      mutateAt(record, path, rng);
      lines[i] = canonicalize(record);
      return {
        lines,
        check: (f) => {
          expect(f.line).toBe(i + 1);
          if (record.type === 'event' && path[0] !== 'seq') expect(f.seq).toBe(seqAt(base, i));
        },
      };
    }
    mutateAt(record, contentPath(record, rng), rng);
    const seq = record.seq as number;
    lines[i] = canonicalize(record);
    // Variant 1 fixes the event's own hash; variant 2 re-hashes the whole rest of the chain.
    rechain(lines, i);
    if (variant === 1) {
      const next = lines.findIndex((l, j) => j > i && isEvent(l));
      if (next !== -1) lines[next] = base[next]!;
    }
    return {
      lines,
      check: (f) => {
        expect(f.line).toBeGreaterThan(i);
        expect(f.seq).not.toBeNull();
        expect(f.seq!).toBeLessThanOrEqual(seq);
      },
    };
  },

  delete: (base, rng) => {
    const lines = [...base];
    const i = rng.int(lines.length);
    const removed = parse(lines[i]!);
    lines.splice(i, 1);
    return {
      lines,
      check: (f) => {
        expect(f.line).toBeGreaterThanOrEqual(i + 1);
        if (removed.type === 'event') expect(f.seq).toBe(removed.seq);
      },
    };
  },

  reorder: (base, rng) => {
    const lines = [...base];
    let i = rng.int(lines.length);
    let j = rng.int(lines.length);
    while (lines[i] === lines[j]) j = rng.int(lines.length);
    if (i > j) [i, j] = [j, i];
    if (rng.next() < 0.5) {
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
    } else {
      const [moved] = lines.splice(i, 1);
      lines.splice(j, 0, moved!);
    }
    return {
      lines,
      check: (f) => {
        expect(f.line).toBeGreaterThanOrEqual(i + 1);
        expect(f.line).toBeLessThanOrEqual(j + 1);
      },
    };
  },

  truncate: (base, rng) => {
    const keep = rng.int(base.length);
    const lines = base.slice(0, keep);
    const variant = rng.int(4);
    if (variant === 1) {
      const cut = base[keep]!;
      lines.push(cut.slice(0, 1 + rng.int(cut.length - 1)));
    }
    if (variant >= 2 && keep > 1) {
      // Make the header agree with the shorter file: only a forged signature can.
      const header = parse(lines[0]!);
      const events = lines.filter(isEvent).map(parse);
      const lastSeq = (events.at(-1)?.seq as number | undefined) ?? (header.firstSeq as number) - 1;
      Object.assign(header, {
        lastSeq,
        eventCount: events.length,
        digestCount: lines.length - 1 - events.length,
        lastHash: events.at(-1)?.hash ?? header.anchorHash,
      });
      lines[0] = forgeSignature(header, variant === 3);
      return { lines, check: (f) => expect(f.line).toBe(1) };
    }
    return { lines, check: (f) => expect(f.line).toBeGreaterThanOrEqual(Math.max(keep, 1)) };
  },

  insert: (base, rng) => {
    const lines = [...base];
    const at = 1 + rng.int(lines.length);
    const variant = rng.int(3);
    const events = indexesOf(base, 'event');
    if (variant === 0) {
      lines.splice(at, 0, pick(rng, base));
    } else if (variant === 1) {
      // A made-up event with a correct hash of its own.
      const record = parse(base[pick(rng, events)]!);
      record.id = `forged-${rng.int(1e6)}`;
      record.data = { forged: true };
      const { type: _type, ...event } = record;
      record.hash = hashEvent(event as never, record.prevHash as string);
      lines.splice(at, 0, canonicalize(record));
    } else {
      // A made-up event linked in properly, with every later event renumbered and re-hashed.
      const after = pick(rng, events);
      const prev = parse(base[after]!);
      const record = {
        ...prev,
        id: `forged-${rng.int(1e6)}`,
        seq: (prev.seq as number) + 1,
        prevHash: prev.hash,
      };
      lines.splice(after + 1, 0, canonicalize(record));
      for (let k = after + 2; k < lines.length; k++) {
        const later = parse(lines[k]!);
        if (later.type === 'event')
          lines[k] = canonicalize({ ...later, seq: (later.seq as number) + 1 });
      }
      rechain(lines, after + 1);
      return { lines, check: (f) => expect(f.line).toBeGreaterThan(after + 1) };
    }
    return { lines, check: (f) => expect(f.line).toBeGreaterThanOrEqual(at) };
  },

  'swap in an event of another tenant': (base, rng) => {
    const lines = [...base];
    const i = pick(rng, indexesOf(base, 'event'));
    const seq = seqAt(base, i);
    const other = exportOfB.find((l) => isEvent(l) && seqAt([l], 0) === seq)!;
    const record = parse(other);
    const variant = rng.int(3);
    if (variant >= 1) record.tenantId = 'tenant-a';
    if (variant === 2) {
      record.prevHash = parse(base[i]!).prevHash;
      const { type: _type, ...event } = record;
      record.hash = hashEvent(event as never, record.prevHash as string);
    }
    lines[i] = canonicalize(record);
    return {
      lines,
      check: (f) => {
        expect(f.line).toBeGreaterThanOrEqual(i + 1);
        if (variant < 2) expect(f).toMatchObject({ line: i + 1, seq });
        else expect(f.seq!).toBeLessThanOrEqual(seq);
      },
    };
  },

  'forge a digest': (base, rng) => {
    const lines = [...base];
    const digests = indexesOf(base, 'digest');
    const d = pick(rng, digests);
    const record = parse(lines[d]!);
    const variant = rng.int(5);
    if (variant === 4) {
      // A genuine digest from another place in the chain.
      let other = pick(rng, digests);
      while (other === d) other = pick(rng, digests);
      lines[d] = base[other]!;
      return { lines, check: (f) => expect(f.line).toBe(d + 1) };
    }
    if (variant === 3) {
      // Rewrite an event, re-hash the rest, and re-sign every later digest and the header.
      const e = pick(rng, indexesOf(base, 'event'));
      const event = parse(lines[e]!);
      event.data = { rewritten: rng.int(1e6) };
      lines[e] = canonicalize(event);
      rechain(lines, e);
      let head: Rec = {};
      for (let k = 1; k < lines.length; k++) {
        const r = parse(lines[k]!);
        if (r.type === 'event') head = r;
        else if (k > e) lines[k] = forgeSignature({ ...r, headHash: head.hash }, false);
      }
      const header = parse(lines[0]!);
      lines[0] = forgeSignature({ ...header, lastHash: head.hash }, false);
      return { lines, check: (f) => expect(f).toMatchObject({ line: 1, code: 'UNKNOWN_KEY' }) };
    }
    const field = pick(rng, ['headSeq', 'headHash', 'previousDigestHash', 'periodEnd', 'tenantId']);
    if (field === 'headSeq') record.headSeq = (record.headSeq as number) + 1 + rng.int(3);
    else if (field === 'headHash' || field === 'previousDigestHash') record[field] = 'f'.repeat(64);
    else if (field === 'periodEnd') record.periodEnd = '2030-01-01T00:00:00.000Z';
    else record.tenantId = 'tenant-b';
    lines[d] = variant === 0 ? canonicalize(record) : forgeSignature(record, variant === 2);
    return {
      lines,
      check: (f) => {
        expect(f.line).toBe(d + 1);
        // A malformed forgery (e.g. headSeq 0 without the genesis hash) fails before the signature.
        expect([variant === 1 ? 'UNKNOWN_KEY' : 'BAD_SIGNATURE', 'INVALID_DIGEST']).toContain(
          f.code,
        );
      },
    };
  },
};

describe('tamper detection', () => {
  it('verifies the untouched exports', async () => {
    for (const lines of [...exportsOfA, exportOfB]) {
      expect((await verifyExport(lines, trusted)).ok).toBe(true);
    }
  });

  it.each(Object.keys(KINDS))('detects %s in 1,000 seeded random tamperings', async (kind) => {
    const rng = prng(0xa0d17 + kind.length);
    const codes = new Set<string>();
    for (let run = 0; run < RUNS; run++) {
      const base = exportsOfA[run % exportsOfA.length]!;
      const { lines, check } = KINDS[kind]!(base, rng);
      const result = await verifyExport(lines, trusted);
      if (result.ok) throw new Error(`${kind}, run ${run}: tampered export verified`);
      try {
        check(result.failure);
      } catch (error) {
        throw new Error(`${kind}, run ${run}: ${JSON.stringify(result.failure)}`, { cause: error });
      }
      codes.add(result.failure.code);
    }
    expect(codes.size).toBeGreaterThan(0);
  });
});
