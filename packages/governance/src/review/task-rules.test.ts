import { describe, expect, it } from 'vitest';
import { DEFAULT_BUSINESS_CALENDAR } from './business-hours.js';
import { actingFor, type Delegation, validateDelegation } from './delegation.js';
import { planEscalation, slaDueAt } from './sla.js';
import {
  activeAssignee,
  assertReleasable,
  planApproval,
  planClaim,
  type ReviewTaskState,
  requiredApprovals,
  validateCorrection,
} from './task-rules.js';

const NOW = new Date('2026-11-25T10:00:00Z');
const task = (over: Partial<ReviewTaskState> = {}): ReviewTaskState => ({
  id: 't1',
  kind: 'review',
  status: 'open',
  queue: 'finance',
  assigneeId: null,
  claimExpiresAt: null,
  labels: ['ham', 'spam'],
  ...over,
});
const ann = { memberId: 'ann', onBehalfOf: null };
const bob = { memberId: 'bob', onBehalfOf: null };

describe('claims', () => {
  it('gives an open task to the first claimant for the claim period', () => {
    expect(planClaim(task(), ann, NOW, 30)).toEqual({
      assigneeId: 'ann',
      claimExpiresAt: new Date('2026-11-25T10:30:00Z'),
    });
  });

  it('refuses another reviewer while the claim holds, and lets them in once it expired', () => {
    const claimed = task({ assigneeId: 'ann', claimExpiresAt: new Date('2026-11-25T10:30:00Z') });
    expect(() => planClaim(claimed, bob, NOW, 30)).toThrow(
      expect.objectContaining({ code: 'REVIEW_CLAIMED' }),
    );
    expect(planClaim(claimed, ann, NOW, 30).assigneeId).toBe('ann');
    // Bob acting for Ann under a delegation takes her claim over.
    expect(planClaim(claimed, { memberId: 'bob', onBehalfOf: 'ann' }, NOW, 30).assigneeId).toBe(
      'bob',
    );
    const later = new Date('2026-11-25T10:31:00Z');
    expect(activeAssignee(claimed, later)).toBeNull();
    expect(planClaim(claimed, bob, later, 30).assigneeId).toBe('bob');
  });

  it('refuses closed tasks, and releases only by the holder unless forced', () => {
    expect(() => planClaim(task({ status: 'resolved' }), ann, NOW, 30)).toThrow(
      expect.objectContaining({ code: 'REVIEW_CLOSED' }),
    );
    const claimed = task({ assigneeId: 'ann', claimExpiresAt: new Date('2026-11-25T11:00:00Z') });
    expect(() => assertReleasable(claimed, bob, NOW, false)).toThrow(
      expect.objectContaining({ code: 'REVIEW_NOT_CLAIMED' }),
    );
    expect(() => assertReleasable(claimed, bob, NOW, true)).not.toThrow();
    expect(() => assertReleasable(task(), ann, NOW, false)).toThrow(
      expect.objectContaining({ code: 'REVIEW_NOT_CLAIMED' }),
    );
  });
});

describe('four-eyes approvals', () => {
  it('needs two approvals under four-eyes, or the step minimum when higher', () => {
    expect(requiredApprovals({ fourEyes: false })).toBe(1);
    expect(requiredApprovals({ fourEyes: true })).toBe(2);
    expect(requiredApprovals({ fourEyes: true, minApprovals: 3 })).toBe(3);
  });

  it('completes with two distinct people and refuses the same person twice', () => {
    const first = planApproval(task(), ann, { approvals: [], required: 2, initiatorId: null });
    expect(first).toEqual({ complete: false, count: 1 });
    expect(() =>
      planApproval(task(), ann, { approvals: [ann], required: 2, initiatorId: null }),
    ).toThrow(expect.objectContaining({ code: 'REVIEW_SAME_APPROVER' }));
    expect(planApproval(task(), bob, { approvals: [ann], required: 2, initiatorId: null })).toEqual(
      {
        complete: true,
        count: 2,
      },
    );
  });

  it('refuses a delegate approving for someone who already approved', () => {
    const forAnn = { memberId: 'carl', onBehalfOf: 'ann' };
    expect(() =>
      planApproval(task(), forAnn, { approvals: [ann], required: 2, initiatorId: null }),
    ).toThrow(expect.objectContaining({ code: 'REVIEW_SAME_APPROVER' }));
  });

  it('refuses the run initiator under four-eyes, not for a single approval', () => {
    expect(() =>
      planApproval(task(), ann, { approvals: [], required: 2, initiatorId: 'ann' }),
    ).toThrow(expect.objectContaining({ code: 'REVIEW_INITIATOR_APPROVER' }));
    expect(
      planApproval(task(), ann, { approvals: [], required: 1, initiatorId: 'ann' }).complete,
    ).toBe(true);
  });
});

describe('corrections', () => {
  it('keeps a known label and refuses others or an empty answer', () => {
    expect(validateCorrection(task(), { label: 'spam' })).toEqual({
      label: 'spam',
      output: { label: 'spam' },
    });
    expect(() => validateCorrection(task(), { label: 'eggs' })).toThrow(
      expect.objectContaining({ code: 'REVIEW_INPUT_INVALID' }),
    );
    expect(() => validateCorrection(task(), {})).toThrow(
      expect.objectContaining({ code: 'REVIEW_INPUT_INVALID' }),
    );
    expect(() => validateCorrection(task({ kind: 'approval' }), { label: 'spam' })).toThrow(
      expect.objectContaining({ code: 'REVIEW_INPUT_INVALID' }),
    );
  });
});

describe('delegation', () => {
  const base: Delegation = {
    id: 'd1',
    delegatorId: 'ann',
    delegateId: 'bob',
    taskId: null,
    startsAt: new Date('2026-11-20T00:00:00Z'),
    endsAt: new Date('2026-11-30T00:00:00Z'),
    revokedAt: null,
  };
  const queues = (m: string) => new Set(m === 'ann' ? ['finance'] : ['support']);

  it('lets the delegate act for the delegator in the delegator’s queues while active', () => {
    expect(actingFor(task(), 'bob', queues('bob'), [base], queues, NOW)).toBe('ann');
    expect(
      actingFor(task({ queue: 'support' }), 'bob', queues('bob'), [base], queues, NOW),
    ).toBeNull();
    const after = new Date('2026-12-01T00:00:00Z');
    expect(actingFor(task(), 'bob', queues('bob'), [base], queues, after)).toBeNull();
    const revoked = { ...base, revokedAt: NOW };
    expect(actingFor(task(), 'bob', queues('bob'), [revoked], queues, NOW)).toBeNull();
  });

  it('a one-task delegation covers that task only', () => {
    const one = { ...base, taskId: 't1' };
    expect(actingFor(task({ queue: 'legal' }), 'bob', queues('bob'), [one], queues, NOW)).toBe(
      'ann',
    );
    expect(actingFor(task({ id: 't2' }), 'bob', queues('bob'), [one], queues, NOW)).toBeNull();
  });

  it('refuses delegating to oneself, empty or past periods', () => {
    const ok = {
      delegatorId: 'ann',
      delegateId: 'bob',
      startsAt: NOW,
      endsAt: new Date('2026-11-26T00:00:00Z'),
    };
    expect(() => validateDelegation(ok, NOW)).not.toThrow();
    for (const bad of [
      { ...ok, delegateId: 'ann' },
      { ...ok, endsAt: NOW },
      {
        ...ok,
        startsAt: new Date('2026-01-01T00:00:00Z'),
        endsAt: new Date('2026-02-01T00:00:00Z'),
      },
      { ...ok, endsAt: new Date('2027-06-01T00:00:00Z') },
    ]) {
      expect(() => validateDelegation(bad, NOW)).toThrow(
        expect.objectContaining({ code: 'DELEGATION_INVALID' }),
      );
    }
  });
});

describe('SLA and escalation', () => {
  it('has no due time without an SLA, and business time with one', () => {
    expect(
      slaDueAt(NOW, { slaMinutes: null, escalateTo: null }, DEFAULT_BUSINESS_CALENDAR),
    ).toBeNull();
    expect(slaDueAt(NOW, { slaMinutes: 480, escalateTo: null }, DEFAULT_BUSINESS_CALENDAR)).toEqual(
      new Date('2026-11-26T10:00:00Z'),
    );
  });

  it('moves a breached task to the next tier, and stays at the last tier', () => {
    expect(
      planEscalation(
        { queue: 'tier1', escalationLevel: 0 },
        { slaMinutes: 60, escalateTo: 'tier2' },
      ),
    ).toEqual({
      level: 1,
      fromQueue: 'tier1',
      toQueue: 'tier2',
    });
    expect(
      planEscalation({ queue: 'tier2', escalationLevel: 1 }, { slaMinutes: 60, escalateTo: null }),
    ).toEqual({
      level: 2,
      fromQueue: 'tier2',
      toQueue: null,
    });
  });
});
