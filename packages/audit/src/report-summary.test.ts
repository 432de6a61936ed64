import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, actionDraft } from './actions.js';
import type { JsonValue } from './canonical-json.js';
import { appendToChain, genesisHead, headOf } from './chain.js';
import type { AuditEvent, AuditEventDraft } from './event.js';
import { AuditReportBuilder } from './report-summary.js';

const tenantId = 'tenant-r';
const system = { type: 'system' as const, id: 'engine' };
const member = { type: 'member' as const, id: 'member-1' };

function chain(drafts: AuditEventDraft[]): AuditEvent[] {
  let head = genesisHead(tenantId);
  return drafts.map((draft) => {
    const event = appendToChain(head, draft);
    head = headOf(event);
    return event;
  });
}

let n = 0;
function base(occurredAt: string) {
  n++;
  return {
    id: `e-${n}`,
    tenantId,
    occurredAt,
    traceId: null,
    subject: { type: 'run', id: `r-${n}` },
  };
}

function decision(at: string, model: string, confidence: number): AuditEventDraft {
  return actionDraft(AUDIT_ACTIONS.decisionRecorded, {
    ...base(at),
    actor: system,
    data: {
      model,
      modelVersion: 'v1',
      label: 'invoice',
      confidence,
      threshold: 0.8,
      outcome: confidence >= 0.8 ? 'auto' : 'review',
    },
  });
}

function review(openedAt: string, decidedAt: string, dueAt: string | null): AuditEventDraft {
  return actionDraft(AUDIT_ACTIONS.reviewDecided, {
    ...base(decidedAt),
    actor: member,
    data: { openedAt, dueAt, decidedAt, outcome: 'approved' },
  });
}

const period = { start: '2025-03-01T00:00:00.000Z', end: '2025-03-04T00:00:00.000Z' };

describe('AuditReportBuilder', () => {
  const events = chain([
    decision('2025-03-01T01:00:00.000Z', 'triage', 0.9),
    decision('2025-03-01T02:00:00.000Z', 'triage', 0.5),
    decision('2025-03-02T02:00:00.000Z', 'triage', 0.7),
    decision('2025-03-02T03:00:00.000Z', 'extractor', 0.95),
    // On time: 30 and 90 minutes; breached: 300 minutes.
    review('2025-03-01T02:00:00.000Z', '2025-03-01T02:30:00.000Z', '2025-03-01T06:00:00.000Z'),
    review('2025-03-02T02:00:00.000Z', '2025-03-02T03:30:00.000Z', '2025-03-02T06:00:00.000Z'),
    review('2025-03-02T03:00:00.000Z', '2025-03-02T08:00:00.000Z', '2025-03-02T07:00:00.000Z'),
    // A queue without an SLA: decided, neither on time nor late.
    review('2025-03-02T04:00:00.000Z', '2025-03-02T04:10:00.000Z', null),
    actionDraft(AUDIT_ACTIONS.policyChanged, {
      ...base('2025-03-03T09:00:00.000Z'),
      actor: member,
      data: { policy: 'review-thresholds', summary: 'triage 0.80 -> 0.85' },
    }),
    actionDraft(AUDIT_ACTIONS.memberRoleChanged, {
      ...base('2025-03-03T10:00:00.000Z'),
      actor: member,
      data: { memberId: 'member-2', fromRole: 'viewer', toRole: null },
    }),
    { ...base('2025-03-03T11:00:00.000Z'), actor: system, action: 'run.started', data: {} },
    { ...base('2025-03-03T12:00:00.000Z'), actor: system, action: 'run.started', data: {} },
    // A known action with the wrong data shape is not trusted as a decision.
    {
      ...base('2025-03-03T13:00:00.000Z'),
      actor: system,
      action: AUDIT_ACTIONS.decisionRecorded,
      data: { model: 'triage', confidence: 'high' } as JsonValue,
    },
  ]);
  const builder = new AuditReportBuilder({ maxChangeRows: 1 });
  for (const event of events) builder.add(event);
  const summary = builder.summary(period);

  it('counts decisions by model and outcome', () => {
    expect(summary.decisions).toMatchObject({ total: 4, auto: 2, review: 2 });
    const [triage, extractor] = summary.decisions.rows;
    expect(triage).toMatchObject({ model: 'triage', modelVersion: 'v1', auto: 1, review: 2 });
    expect(triage!.meanConfidence).toBeCloseTo(0.7, 9);
    expect(extractor).toMatchObject({ model: 'extractor', auto: 1, review: 0 });
    expect(summary.decisions.rows).toHaveLength(2);
  });

  it('measures review SLAs: on time vs breached and the median time to decision', () => {
    expect(summary.reviews).toMatchObject({ decided: 4, onTime: 2, breached: 1 });
    // 10, 30, 90 and 300 minutes: the lower middle value.
    expect(summary.reviews.medianMinutes).toBe(30);
    expect(summary.reviews.p90Minutes).toBe(300);
  });

  it('lists changes of policy and roles, up to the row limit', () => {
    expect(summary.changes.total).toBe(2);
    expect(summary.changes.omitted).toBe(1);
    expect(summary.changes.rows).toEqual([
      expect.objectContaining({
        action: 'policy.changed',
        actor: 'member:member-1',
        summary: 'review-thresholds: triage 0.80 -> 0.85',
      }),
    ]);
  });

  it('counts unknown actions and known actions with unreadable data separately', () => {
    expect(summary.unknownActions).toEqual([{ action: 'run.started', count: 2 }]);
    expect(summary.unreadable).toEqual([{ action: 'decision.recorded', count: 1 }]);
    expect(summary.actions[0]).toEqual({ action: 'decision.recorded', count: 5 });
  });

  it('buckets activity over the period so that every event lands in one bucket', () => {
    const { buckets, bucketLabel } = summary.activity;
    // Three days in at most 60 bars: 6-hour buckets.
    expect(bucketLabel).toBe('6 hours');
    expect(buckets[0]!.start).toBe(period.start);
    const total = buckets.reduce(
      (sum, b) => sum + b.counts.decisions + b.counts.reviews + b.counts.changes + b.counts.other,
      0,
    );
    expect(total).toBe(events.length);
    const at = (iso: string) => buckets.find((b) => b.start === iso)!.counts;
    expect(at('2025-03-01T00:00:00.000Z')).toEqual({
      decisions: 2,
      reviews: 1,
      changes: 0,
      other: 0,
    });
    expect(at('2025-03-03T12:00:00.000Z')).toEqual({
      decisions: 0,
      reviews: 0,
      changes: 0,
      other: 2,
    });
  });

  it('picks wider buckets for longer periods', () => {
    const year = new AuditReportBuilder().summary({
      start: '2025-01-01T00:00:00.000Z',
      end: '2026-01-01T00:00:00.000Z',
    });
    expect(year.activity.bucketLabel).toBe('week');
    expect(year.activity.buckets.length).toBeLessThanOrEqual(60);
  });
});
