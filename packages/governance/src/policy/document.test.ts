import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { GovernanceError } from '../errors.js';
import { DEFAULT_GOVERNANCE_POLICY } from './defaults.js';
import { applyOverride, loadGovernancePolicyFile, parseGovernancePolicy } from './document.js';

const SHIPPED = fileURLToPath(new URL('../../../../policies/governance.yaml', import.meta.url));

function issuesOf(fn: () => unknown): Array<{ path: string; message: string }> {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(GovernanceError);
    expect((error as GovernanceError).code).toBe('POLICY_INVALID');
    return (error as GovernanceError).details?.issues as Array<{ path: string; message: string }>;
  }
  throw new Error('expected POLICY_INVALID');
}

describe('governance policy documents', () => {
  it('the shipped policies/governance.yaml is valid and equals the built-in defaults', async () => {
    expect(await loadGovernancePolicyFile(SHIPPED)).toEqual(DEFAULT_GOVERNANCE_POLICY);
  });

  it('fills in every default for an empty document', () => {
    const policy = parseGovernancePolicy({});
    expect(policy.thresholds.default).toBe(0.9);
    expect(policy.redaction.detectors).toContain('paymentCard');
    expect(policy.retention.auditEvents).toBe('forever');
  });

  it('names the path of each problem', () => {
    const issues = issuesOf(() =>
      parseGovernancePolicy({
        thresholds: {
          default: 1.5,
          overrides: [{ model: 'm', threshold: -1 }, { threshold: 0.5 }],
        },
        approvals: { connectorActions: [{ action: 'not a pattern' }] },
        redaction: { detectors: ['email', 'dna'], colour: 'red' },
        retention: { runPayloads: '90 days', auditEvents: 'P7Y' },
      }),
    );
    const paths = issues.map((i) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'thresholds.default',
        'thresholds.overrides.0.threshold',
        'thresholds.overrides.1',
        'approvals.connectorActions.0.action',
        'redaction.detectors.1',
        'redaction',
        'retention.runPayloads',
        'retention.auditEvents',
      ]),
    );
    expect(issues.find((i) => i.path === 'retention.auditEvents')?.message).toMatch(
      /never deleted/,
    );
    expect(issues.find((i) => i.path === 'redaction')?.message).toMatch(/"colour"/);
  });

  it('the error names the file it read', async () => {
    const bad = fileURLToPath(new URL('./missing-governance.yaml', import.meta.url));
    await expect(loadGovernancePolicyFile(bad)).rejects.toMatchObject({
      code: 'POLICY_FILE_UNREADABLE',
      message: expect.stringContaining('missing-governance.yaml'),
    });
  });

  it('an override merges objects over the defaults and replaces lists', () => {
    const policy = applyOverride(DEFAULT_GOVERNANCE_POLICY, {
      thresholds: { overrides: [{ model: 'triage', threshold: 0.7 }] },
      redaction: { external: ['mailer'], apply: { logs: false } },
    });
    expect(policy.thresholds.default).toBe(0.9);
    expect(policy.thresholds.overrides).toEqual([{ model: 'triage', threshold: 0.7 }]);
    expect(policy.redaction.apply).toEqual({
      logs: false,
      exports: true,
      externalConnectors: true,
    });
    expect(policy.redaction.maskPaths).toEqual(DEFAULT_GOVERNANCE_POLICY.redaction.maskPaths);
  });

  it('an invalid override is rejected with paths inside the override', () => {
    const issues = issuesOf(() =>
      applyOverride(DEFAULT_GOVERNANCE_POLICY, { retention: { stepOutputs: 'P-1D' } }),
    );
    expect(issues).toEqual([{ path: 'retention.stepOutputs', message: expect.any(String) }]);
  });
});
