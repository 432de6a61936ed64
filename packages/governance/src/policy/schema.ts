// The governance policy document (policies/governance.yaml holds the defaults; a tenant saves
// overrides as versions). Pure: zod only. Every field states its default.
import { z } from 'zod';
import { PII_KINDS } from '../redaction/kinds.js';
import { parseIsoDuration } from './duration.js';

const threshold = z
  .number()
  .min(0, 'a threshold is a confidence in [0, 1]')
  .max(1, 'a threshold is a confidence in [0, 1] (1 sends everything to review)');

const selector = z.string().trim().min(1, 'must not be empty');

/**
 * One threshold for the decisions it matches: any of workflow (id or name), model (name) and
 * label; at least one. Precedence: see resolveThreshold (the override naming the most of
 * workflow, model and label wins; on a tie workflow beats model beats label; then the later one).
 */
export const thresholdOverrideSchema = z
  .strictObject({
    workflow: selector.optional(),
    model: selector.optional(),
    label: selector.optional(),
    threshold,
  })
  .refine((o) => o.workflow !== undefined || o.model !== undefined || o.label !== undefined, {
    message: 'an override names at least one of workflow, model or label',
  });

export const thresholdsSchema = z.strictObject({
  /** Minimum confidence to act without review when no override matches. Default 0.9. */
  default: threshold.default(0.9),
  /** Default: none. */
  overrides: z.array(thresholdOverrideSchema).default([]),
});

/** `pluginId.actionId`; `*` matches any run of characters (e.g. `stripe.*`, `*.delete*`). */
const actionPattern = z
  .string()
  .regex(
    /^[A-Za-z0-9_*@/-]+(?:\.[A-Za-z0-9_*-]+)?$/,
    'write pluginId.actionId, e.g. "stripe.refund" or "stripe.*"',
  );

export const approvalRuleSchema = z.strictObject({
  /** Which connector actions this rule gates. */
  action: actionPattern,
  /** Two different people must approve. Default false. */
  fourEyes: z.boolean().default(false),
  /** The role that may approve (a roles.yaml role); default: any member who may decide reviews. */
  role: z.string().min(1).optional(),
});

export const approvalsSchema = z.strictObject({
  /** Connector actions that wait for an approval before they run. Default: none. */
  connectorActions: z.array(approvalRuleSchema).default([]),
});

export const redactionSchema = z.strictObject({
  /** Detectors that are on. Default: all of them. */
  detectors: z.array(z.enum(PII_KINDS)).default([...PII_KINDS]),
  /** `kind` writes `[redacted:email]`, `mask` writes `[redacted]`. Default `kind`. */
  replacement: z.enum(['kind', 'mask']).default('kind'),
  /** Fields replaced whole (`**.password`, `customer.*.ssn`). Default: none. */
  maskPaths: z
    .array(z.string().regex(/^[^.]+(\.[^.]+)*$/, 'segments joined by single dots'))
    .default([]),
  /** Regions whose national phone formats count (ISO 3166 alpha-2). Default ['US', 'GB']. */
  phoneRegions: z
    .array(z.string().regex(/^[A-Z]{2}$/, 'two capital letters, e.g. "GB"'))
    .default(['US', 'GB']),
  /**
   * Connectors outside the tenant's trust boundary: plugin ids or `pluginId.actionId` patterns.
   * Their inputs are redacted before they are sent. Default: none.
   */
  external: z.array(actionPattern).default([]),
  /** Where redaction applies. Defaults: all true. */
  apply: z
    .strictObject({
      logs: z.boolean().default(true),
      exports: z.boolean().default(true),
      externalConnectors: z.boolean().default(true),
    })
    .default({ logs: true, exports: true, externalConnectors: true }),
});

/** Data classes the retention sweep may delete. Audit events are not one of them. */
export const RETENTION_DATA_CLASSES = [
  /** Run inputs and outputs. */
  'runPayloads',
  /** Step inputs, outputs and errors. */
  'stepOutputs',
  /** Inputs kept with model decisions (inference requests). */
  'decisionInputs',
  /** Comments on review tasks. */
  'reviewComments',
  /** Received webhook bodies. */
  'webhookDeliveries',
] as const;
export type RetentionDataClass = (typeof RETENTION_DATA_CLASSES)[number];

const retentionPeriod = z.string().refine((s) => s === 'forever' || parseIsoDuration(s) !== null, {
  message: 'an ISO-8601 duration such as "P90D" or "P1Y", or "forever"',
});

/**
 * How long each data class is kept: an ISO-8601 duration or `forever`. `auditEvents` may only be
 * `forever`: audit events are hash-chained and never deleted (erasure shreds their keys instead).
 */
export const retentionSchema = z.strictObject({
  runPayloads: retentionPeriod.default('P90D'),
  stepOutputs: retentionPeriod.default('P90D'),
  decisionInputs: retentionPeriod.default('P30D'),
  reviewComments: retentionPeriod.default('P1Y'),
  webhookDeliveries: retentionPeriod.default('P30D'),
  auditEvents: z
    .literal('forever', {
      error:
        'audit events are never deleted (they are hash-chained): write "forever" or leave it out',
    })
    .default('forever'),
});

export const governancePolicySchema = z.strictObject({
  /** Format version of the document. */
  version: z.literal(1).default(1),
  thresholds: thresholdsSchema.default({ default: 0.9, overrides: [] }),
  approvals: approvalsSchema.default({ connectorActions: [] }),
  redaction: redactionSchema.default(() => redactionSchema.parse({})),
  retention: retentionSchema.default(() => retentionSchema.parse({})),
});

/** A complete, checked governance policy (every default filled in). */
export type GovernancePolicy = z.output<typeof governancePolicySchema>;
export type ThresholdOverride = z.output<typeof thresholdOverrideSchema>;
export type ApprovalRule = z.output<typeof approvalRuleSchema>;
export type RedactionPolicy = z.output<typeof redactionSchema>;
export type RetentionPolicy = z.output<typeof retentionSchema>;

/** A tenant's override: any part of the document; objects merge over the defaults, lists replace. */
export type GovernancePolicyOverride = { [key: string]: unknown };
