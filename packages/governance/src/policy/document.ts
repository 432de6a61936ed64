// Checking governance documents and merging a tenant's override over the defaults. Errors name
// the path of each problem (`thresholds.overrides.0.threshold`) so a caller can point at it.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { GovernanceError } from '../errors.js';
import {
  type GovernancePolicy,
  type GovernancePolicyOverride,
  governancePolicySchema,
} from './schema.js';

export interface PolicyIssue {
  /** Dotted path inside the document, e.g. `retention.runPayloads` ('' for the document). */
  path: string;
  message: string;
}

function issuesOf(error: z.ZodError): PolicyIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message:
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : issue.message,
  }));
}

function invalid(where: string, issues: PolicyIssue[]): GovernanceError {
  const first = issues[0];
  const lines = issues.map((i) => `${i.path || '(document)'}: ${i.message}`).join('; ');
  return new GovernanceError(
    'POLICY_INVALID',
    `${where} is not a valid governance policy: ${lines}.`,
    {
      issues,
      ...(first ? { field: first.path } : {}),
    },
  );
}

/** Checks a complete document and fills in defaults; throws POLICY_INVALID naming each path. */
export function parseGovernancePolicy(value: unknown, where = 'The policy'): GovernancePolicy {
  const parsed = governancePolicySchema.safeParse(value ?? {});
  if (!parsed.success) throw invalid(where, issuesOf(parsed.error));
  return parsed.data;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `override` over `base`: objects merge key by key, anything else (lists included) replaces. */
export function mergePolicy(base: unknown, override: unknown): unknown {
  if (!isObject(base) || !isObject(override)) return override === undefined ? base : override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergePolicy(base[key], value);
  return out;
}

/**
 * A tenant's effective policy: its override merged over the defaults, checked. Paths in errors
 * are paths in the override (the merge keeps them).
 */
export function applyOverride(
  defaults: GovernancePolicy,
  override: GovernancePolicyOverride | null,
  where = 'The override',
): GovernancePolicy {
  if (override === null) return defaults;
  if (!isObject(override)) {
    throw invalid(where, [
      { path: '', message: 'expected an object such as { thresholds: { default: 0.8 } }' },
    ]);
  }
  return parseGovernancePolicy(mergePolicy(defaults, override), where);
}

/** Reads and checks policies/governance.yaml (once, at boot); errors name the file and path. */
export async function loadGovernancePolicyFile(path: string): Promise<GovernancePolicy> {
  let text: string;
  let value: unknown;
  try {
    text = await readFile(path, 'utf8');
    value = parseYaml(text);
  } catch (cause) {
    throw new GovernanceError(
      'POLICY_FILE_UNREADABLE',
      `Cannot read the governance policy ${path}: ${(cause as Error).message}. Fix the file or point the app at another one.`,
      { path },
      { cause },
    );
  }
  return parseGovernancePolicy(value, path);
}
