import { getStep, type WorkflowDefinition } from '@roster/core';

/**
 * Names of step instances in step_runs. A step outside map iterations is its own row
 * (`<step>`, branch steps included: step ids are unique across a definition); inside iteration
 * `i` of a map (and `j` of a map nested in it) it is `<step>@i.j`. Each branch or iteration has
 * a marker row `<owner row>#<branch|index>` holding its status, its end output and its item.
 */

export function rowKey(stepId: string, path: readonly number[] | undefined): string {
  return path && path.length > 0 ? `${stepId}@${path.join('.')}` : stepId;
}

export function parseRowKey(key: string): { stepId: string; path: number[] } {
  const at = key.indexOf('@');
  if (at < 0) return { stepId: key, path: [] };
  return {
    stepId: key.slice(0, at),
    path: key
      .slice(at + 1)
      .split('.')
      .map(Number),
  };
}

export function markerKey(ownerRowKey: string, member: string | number): string {
  return `${ownerRowKey}#${member}`;
}

/** The owner row of a marker, markerKey's inverse (`fork#a` → `fork`, `each@1#3` → `each@1`). */
export function markerOwner(marker: string): string {
  return marker.slice(0, marker.indexOf('#'));
}

/** A branch or iteration a step instance runs in. */
export interface Frame {
  kind: 'branch' | 'iteration';
  /** The parallel or map step. */
  owner: string;
  ownerPath: number[];
  ownerKey: string;
  /** Branch name or item index. */
  member: string | number;
  marker: string;
}

/**
 * The frames around a step instance, innermost first; undefined when the iteration path does
 * not fit the definition (a job from before a replay with another shape cannot happen, as
 * versions are immutable; this guards hand-made jobs).
 */
export function framesOf(
  definition: WorkflowDefinition,
  stepId: string,
  path: readonly number[] | undefined,
): Frame[] | undefined {
  const frames: Frame[] = [];
  let rest = [...(path ?? [])];
  let scope = getStep(definition, stepId).scope;
  while (scope.kind !== 'root') {
    if (scope.kind === 'branch') {
      const ownerKey = rowKey(scope.parallel, rest);
      frames.push({
        kind: 'branch',
        owner: scope.parallel,
        ownerPath: rest,
        ownerKey,
        member: scope.branch,
        marker: markerKey(ownerKey, scope.branch),
      });
      scope = getStep(definition, scope.parallel).scope;
      continue;
    }
    const index = rest.at(-1);
    if (index === undefined) return undefined;
    const ownerPath = rest.slice(0, -1);
    const ownerKey = rowKey(scope.map, ownerPath);
    frames.push({
      kind: 'iteration',
      owner: scope.map,
      ownerPath,
      ownerKey,
      member: index,
      marker: markerKey(ownerKey, index),
    });
    rest = ownerPath;
    scope = getStep(definition, scope.map).scope;
  }
  return rest.length === 0 ? frames : undefined;
}

/**
 * The `steps` a step instance at `path` sees: top-level and branch steps, and the steps of the
 * iterations it runs in (the innermost instance of each step wins). Markers are never visible.
 */
export function visibleSteps(
  all: Record<string, { output: unknown }> | null | undefined,
  path: readonly number[],
): Record<string, { output: unknown }> {
  const out: Record<string, { output: unknown }> = {};
  const depth: Record<string, number> = {};
  for (const [key, value] of Object.entries(all ?? {})) {
    if (key.includes('#')) continue;
    const { stepId, path: own } = parseRowKey(key);
    if (own.length > path.length || !own.every((n, i) => n === path[i])) continue;
    if ((depth[stepId] ?? -1) < own.length) {
      out[stepId] = value;
      depth[stepId] = own.length;
    }
  }
  return out;
}
