import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, actionDraft, isKnownAction, readActionData } from './actions.js';
import { appendToChain, genesisHead } from './chain.js';

const decision = {
  model: 'email-triage',
  modelVersion: 'v4',
  label: 'invoice',
  confidence: 0.91,
  threshold: 0.8,
  outcome: 'auto' as const,
};

describe('audit actions', () => {
  it('builds drafts of known actions that chain like any other event', () => {
    const draft = actionDraft(AUDIT_ACTIONS.decisionRecorded, {
      id: 'e1',
      tenantId: 't',
      occurredAt: '2025-03-01T00:00:00.000Z',
      actor: { type: 'system', id: 'engine' },
      subject: { type: 'run', id: 'r1' },
      traceId: null,
      data: decision,
    });
    const event = appendToChain(genesisHead('t'), draft);
    expect(event.action).toBe('decision.recorded');
    expect(readActionData(event, AUDIT_ACTIONS.decisionRecorded)).toEqual(decision);
  });

  it('reads data only when the action and its shape match', () => {
    const event = { action: 'decision.recorded', data: decision };
    expect(readActionData(event, AUDIT_ACTIONS.reviewDecided)).toBeNull();
    for (const bad of [
      { ...decision, confidence: 1.5 },
      { ...decision, outcome: 'maybe' },
      { ...decision, model: '' },
      [decision],
      null,
    ]) {
      expect(
        readActionData({ action: 'decision.recorded', data: bad }, 'decision.recorded'),
      ).toBeNull();
    }
    expect(
      readActionData(
        {
          action: 'review.decided',
          data: {
            openedAt: '2025-03-01T00:00:00.000Z',
            dueAt: 'tomorrow',
            decidedAt: '2025-03-01T01:00:00.000Z',
            outcome: 'approved',
          },
        },
        'review.decided',
      ),
    ).toBeNull();
  });

  it('tells known from unknown actions', () => {
    for (const action of Object.values(AUDIT_ACTIONS)) expect(isKnownAction(action)).toBe(true);
    expect(isKnownAction('run.started')).toBe(false);
  });
});
