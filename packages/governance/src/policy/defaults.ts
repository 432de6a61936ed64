import { governancePolicySchema } from './schema.js';

/**
 * The built-in defaults, identical to the shipped policies/governance.yaml (a test keeps them
 * equal). Apps load the file at boot (loadGovernancePolicyFile) and pass it as `defaults`; code
 * that has none uses these.
 */
export const DEFAULT_GOVERNANCE_POLICY = Object.freeze(
  governancePolicySchema.parse({
    version: 1,
    thresholds: { default: 0.9, overrides: [] },
    approvals: { connectorActions: [] },
    redaction: {
      replacement: 'kind',
      maskPaths: ['**.password', '**.secret', '**.token', '**.apiKey'],
      external: [],
    },
    retention: {
      runPayloads: 'P90D',
      stepOutputs: 'P90D',
      decisionInputs: 'P30D',
      reviewComments: 'P1Y',
      webhookDeliveries: 'P30D',
      auditEvents: 'forever',
    },
  }),
);
