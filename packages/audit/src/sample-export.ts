import type { KeyObject } from 'node:crypto';
import { AUDIT_ACTIONS, type AuditActionData, actionDraft } from './actions.js';
import { appendToChain, type ChainHead, genesisHead, headOf } from './chain.js';
import { type AuditDigest, digestHash, signDigest } from './digest.js';
import { AuditError } from './errors.js';
import type { AuditEvent, AuditEventDraft } from './event.js';
import { writeExport } from './export-writer.js';

export interface SampleExportOptions {
  /** How many events. */
  events: number;
  signingKey: KeyObject | string;
  /** Default `sample-tenant`. */
  tenantId?: string;
  /** A signed digest after every this many events. Default 1000. */
  digestEvery?: number;
  /** Default 2025-03-01T00:00:00.000Z; events spread evenly over `days` from here. */
  start?: string;
  /** Default 30. */
  days?: number;
  /** Seed of the deterministic choice of events. Default 1. */
  seed?: number;
}

/**
 * A realistic, deterministic export (decisions, reviews with SLAs, policy, permission, role and
 * API key changes, and other actions) as JSONL lines, for demos, tests and benchmarks. Two
 * passes over the generated chain keep memory flat: the first signs the digests, the second
 * writes the lines.
 */
export async function* sampleExportLines(options: SampleExportOptions): AsyncGenerator<string> {
  const tenantId = options.tenantId ?? 'sample-tenant';
  const digestEvery = options.digestEvery ?? 1000;
  const start = Date.parse(options.start ?? '2025-03-01T00:00:00.000Z');
  const end = start + (options.days ?? 30) * 86_400_000;
  if (!Number.isSafeInteger(options.events) || options.events < 0 || !(digestEvery >= 1)) {
    throw new AuditError(
      'AUDIT_INVALID_EVENT',
      'sampleExportLines needs events >= 0 and digestEvery >= 1.',
    );
  }
  const step = (end - start) / Math.max(1, options.events);
  const digests: AuditDigest[] = [];
  const sign = (head: ChainHead, at: number) => {
    const previous = digests.at(-1);
    const iso = new Date(at).toISOString();
    digests.push(
      signDigest(
        {
          tenantId,
          headSeq: head.seq,
          headHash: head.hash,
          previousDigestHash: previous === undefined ? null : digestHash(previous),
          periodStart: previous?.periodEnd ?? new Date(start).toISOString(),
          periodEnd: iso,
          signedAt: iso,
        },
        options.signingKey,
      ),
    );
  };
  sign(genesisHead(tenantId), start);
  let head = genesisHead(tenantId);
  for (const event of sampleEvents(tenantId, options.events, start, step, options.seed ?? 1)) {
    head = headOf(event);
    if (event.seq % digestEvery === 0 || event.seq === options.events) {
      sign(head, Date.parse(event.occurredAt));
    }
  }
  yield* writeExport({
    tenantId,
    periodStart: new Date(start).toISOString(),
    periodEnd: new Date(end).toISOString(),
    exportedAt: new Date(end).toISOString(),
    firstSeq: 1,
    digests,
    events: sampleEvents(tenantId, options.events, start, step, options.seed ?? 1),
    signingKey: options.signingKey,
  });
}

function* sampleEvents(
  tenantId: string,
  count: number,
  start: number,
  step: number,
  seed: number,
): Generator<AuditEvent> {
  const random = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  let head = genesisHead(tenantId);
  for (let seq = 1; seq <= count; seq++) {
    const at = start + Math.floor(seq * step);
    const base = {
      id: `evt-${seq}`,
      tenantId,
      occurredAt: new Date(at).toISOString(),
      traceId: `trace-${Math.floor(random() * 1e9).toString(16)}`,
    };
    const event = appendToChain(head, sampleDraft(base, at, random(), pick, random));
    head = headOf(event);
    yield event;
  }
}

type Base = Pick<AuditEventDraft, 'id' | 'tenantId' | 'occurredAt' | 'traceId'>;

const MODELS = [
  { model: 'email-triage', modelVersion: 'v3', labels: ['invoice', 'support', 'spam', 'other'] },
  { model: 'email-triage', modelVersion: 'v4', labels: ['invoice', 'support', 'spam', 'other'] },
  { model: 'invoice-extractor', modelVersion: 'v1', labels: ['complete', 'incomplete'] },
] as const;
const MEMBERS = ['member-ana', 'member-bo', 'member-chen', 'member-dee'];
const ROLES = ['viewer', 'reviewer', 'builder', 'admin'];
const OTHER = ['run.started', 'run.completed', 'connector.invoked', 'workflow.updated'];

function sampleDraft(
  base: Base,
  at: number,
  roll: number,
  pick: <T>(items: readonly T[]) => T,
  random: () => number,
): AuditEventDraft {
  const system = { type: 'system' as const, id: 'engine' };
  const member = { type: 'member' as const, id: pick(MEMBERS) };
  if (roll < 0.55) {
    const m = pick(MODELS);
    // Mostly confident, with a tail below the threshold that goes to review.
    const confidence = Math.round((1 - random() ** 2 * 0.5) * 1000) / 1000;
    const threshold = 0.8;
    const data: AuditActionData['decision.recorded'] = {
      model: m.model,
      modelVersion: m.modelVersion,
      label: pick(m.labels),
      confidence,
      threshold,
      outcome: confidence >= threshold ? 'auto' : 'review',
    };
    const subject = { type: 'run', id: `run-${Math.floor(random() * 1e6)}` };
    return actionDraft(AUDIT_ACTIONS.decisionRecorded, { ...base, actor: system, subject, data });
  }
  if (roll < 0.7) {
    const openedAt = at - Math.floor(random() ** 2 * 8 * 3_600_000);
    const data: AuditActionData['review.decided'] = {
      openedAt: new Date(openedAt).toISOString(),
      dueAt: new Date(openedAt + 4 * 3_600_000).toISOString(),
      decidedAt: base.occurredAt,
      outcome: pick(['approved', 'approved', 'approved', 'rejected', 'corrected'] as const),
    };
    const subject = { type: 'reviewTask', id: `review-${Math.floor(random() * 1e6)}` };
    return actionDraft(AUDIT_ACTIONS.reviewDecided, { ...base, actor: member, subject, data });
  }
  if (roll < 0.703) {
    const before = Math.round(70 + random() * 20) / 100;
    const after = Math.round(70 + random() * 20) / 100;
    return actionDraft(AUDIT_ACTIONS.policyChanged, {
      ...base,
      actor: member,
      subject: { type: 'policy', id: 'review-thresholds' },
      before: { threshold: before },
      after: { threshold: after },
      data: {
        policy: 'review-thresholds',
        summary: `email-triage threshold ${before} -> ${after}`,
      },
    });
  }
  if (roll < 0.706) {
    const role = pick(ROLES);
    return actionDraft(AUDIT_ACTIONS.permissionChanged, {
      ...base,
      actor: member,
      subject: { type: 'role', id: role },
      data: {
        role,
        granted: [pick(['workflow:update', 'run:start', 'review:decide'])],
        revoked: [],
      },
    });
  }
  if (roll < 0.709) {
    const memberId = pick(MEMBERS);
    return actionDraft(AUDIT_ACTIONS.memberRoleChanged, {
      ...base,
      actor: member,
      subject: { type: 'member', id: memberId },
      data: { memberId, fromRole: pick(ROLES), toRole: pick(ROLES) },
    });
  }
  if (roll < 0.711) {
    const keyPrefix = `rk_${Math.floor(random() * 1e8).toString(36)}`;
    return actionDraft(AUDIT_ACTIONS.apiKeyCreated, {
      ...base,
      actor: member,
      subject: { type: 'apiKey', id: keyPrefix },
      data: { keyPrefix, name: 'integration', scopes: ['runs:start', 'runs:read'] },
    });
  }
  return {
    ...base,
    actor: system,
    action: pick(OTHER),
    subject: { type: 'run', id: `run-${Math.floor(random() * 1e6)}` },
    data: { attempt: 1 + Math.floor(random() * 3) },
  };
}

/** Deterministic PRNG so that the same options always give the same export. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
