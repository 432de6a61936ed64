// Which review threshold applies to a decision. Precedence (most specific wins):
//   1. the override naming the most of workflow, model and label;
//   2. on a tie, the one naming the workflow, then the model, then the label
//      (workflow+model > workflow+label > model+label; workflow > model > label);
//   3. on a full tie, the later override in the list;
//   4. no override matches: thresholds.default.
import type { GovernancePolicy, ThresholdOverride } from './schema.js';

export interface DecisionScope {
  /** The run's workflow: matched by id or (case-insensitively) by name. */
  workflowId?: string | null;
  workflowName?: string | null;
  /** The model's name. */
  model?: string | null;
}

function specificity(o: ThresholdOverride): number {
  const count = Number(!!o.workflow) + Number(!!o.model) + Number(!!o.label);
  return count * 8 + (o.workflow ? 4 : 0) + (o.model ? 2 : 0) + (o.label ? 1 : 0);
}

function matchesScope(o: ThresholdOverride, scope: DecisionScope, label: string | null): boolean {
  if (o.workflow !== undefined) {
    const byId = o.workflow === scope.workflowId;
    const byName = scope.workflowName?.toLowerCase() === o.workflow.toLowerCase();
    if (!byId && !byName) return false;
  }
  if (o.model !== undefined && o.model !== scope.model) return false;
  if (o.label !== undefined && o.label !== label) return false;
  return true;
}

/** The threshold for `label` (null: for any label the overrides do not name) in `scope`. */
export function resolveThreshold(
  policy: Pick<GovernancePolicy, 'thresholds'>,
  scope: DecisionScope,
  label: string | null,
): number {
  let best: ThresholdOverride | undefined;
  for (const o of policy.thresholds.overrides) {
    if (!matchesScope(o, scope, label)) continue;
    if (!best || specificity(o) >= specificity(best)) best = o;
  }
  return best?.threshold ?? policy.thresholds.default;
}

/**
 * The thresholds of every decision in `scope`, in the shape decide() takes: `default` for labels
 * no override names, `perLabel` for the labels that some matching override names.
 */
export function thresholdsForScope(
  policy: Pick<GovernancePolicy, 'thresholds'>,
  scope: DecisionScope,
): { default: number; perLabel: Record<string, number> } {
  const perLabel: Record<string, number> = {};
  for (const o of policy.thresholds.overrides) {
    if (o.label !== undefined && matchesScope(o, scope, o.label)) {
      perLabel[o.label] = resolveThreshold(policy, scope, o.label);
    }
  }
  return { default: resolveThreshold(policy, scope, null), perLabel };
}
