import { describe, expect, it } from 'vitest';
import { parseGovernancePolicy } from './document.js';
import { resolveThreshold, thresholdsForScope } from './thresholds.js';

const policy = parseGovernancePolicy({
  thresholds: {
    default: 0.9,
    overrides: [
      { label: 'spam', threshold: 0.6 },
      { model: 'triage', threshold: 0.8 },
      { model: 'triage', label: 'spam', threshold: 0.7 },
      { workflow: 'Refunds', threshold: 0.99 },
      { workflow: 'Refunds', label: 'spam', threshold: 0.95 },
      { workflow: 'Refunds', model: 'triage', threshold: 0.97 },
    ],
  },
});
const triage = { workflowId: 'w-1', workflowName: 'Inbox', model: 'triage' };
const refunds = { workflowId: 'w-2', workflowName: 'refunds', model: 'triage' };

describe('threshold precedence', () => {
  it('falls back to the default when nothing matches', () => {
    expect(resolveThreshold(policy, { workflowId: 'w-9', model: 'other' }, 'ham')).toBe(0.9);
  });

  it('a model override beats a label override, model+label beats both', () => {
    expect(resolveThreshold(policy, triage, 'ham')).toBe(0.8);
    expect(resolveThreshold(policy, { model: 'other' }, 'spam')).toBe(0.6);
    expect(resolveThreshold(policy, triage, 'spam')).toBe(0.7);
  });

  it('a workflow (by name, any case) beats a model; workflow+model beats workflow+label', () => {
    expect(resolveThreshold(policy, { ...refunds, model: 'other' }, 'ham')).toBe(0.99);
    expect(resolveThreshold(policy, { ...refunds, model: 'other' }, 'spam')).toBe(0.95);
    expect(resolveThreshold(policy, refunds, 'spam')).toBe(0.97);
  });

  it('matches a workflow by id as well', () => {
    const byId = parseGovernancePolicy({
      thresholds: { overrides: [{ workflow: 'w-1', threshold: 0.5 }] },
    });
    expect(resolveThreshold(byId, triage, 'x')).toBe(0.5);
  });

  it('on a full tie the later override wins', () => {
    const tie = parseGovernancePolicy({
      thresholds: {
        overrides: [
          { model: 'm', threshold: 0.1 },
          { model: 'm', threshold: 0.2 },
        ],
      },
    });
    expect(resolveThreshold(tie, { model: 'm' }, null)).toBe(0.2);
  });

  it('gives decide() a default and the per-label thresholds of a scope', () => {
    expect(thresholdsForScope(policy, triage)).toEqual({ default: 0.8, perLabel: { spam: 0.7 } });
    expect(thresholdsForScope(policy, refunds)).toEqual({
      default: 0.97,
      perLabel: { spam: 0.97 },
    });
  });
});
