// The runtime half of the SDK: this file (and what it imports) is what gets bundled into a
// plugin and run inside QuickJS, so it imports zod for types only and uses no host globals.
import type { z } from 'zod';
import type { CapabilityDeclarations, CapabilityName } from './capabilities.js';
import type { ActionContext } from './context.js';
import { PluginSdkError } from './errors.js';

export interface ActionDefinition<
  U extends CapabilityName = CapabilityName,
  I extends z.ZodType = z.ZodType,
  O extends z.ZodType = z.ZodType,
> {
  readonly title: string;
  readonly description?: string;
  /** Capabilities this action calls; each must be declared by the connector. Default: none. */
  readonly uses?: readonly U[];
  /** Validated by the host (as JSON Schema) before `run` is called. */
  readonly input: I;
  /** Validated by the host (as JSON Schema) after `run` returns. Must be JSON data. */
  readonly output: O;
  run(ctx: ActionContext<U>, input: z.output<I>): Promise<z.input<O>> | z.input<O>;
}

export interface ConnectionDefinition<S extends z.ZodType = z.ZodType> {
  readonly description?: string;
  /** The credentials a tenant must provide; each field becomes `ctx.secrets[field]`. */
  readonly schema: S;
}

export interface ConnectorDefinition<
  A extends Record<string, ActionDefinition> = Record<string, ActionDefinition>,
> {
  /** Lower-case letters, digits, `-` and `.`; unique in the marketplace. */
  readonly id: string;
  readonly name: string;
  /** Semantic version, e.g. `1.2.0`. */
  readonly version: string;
  readonly description: string;
  readonly capabilities: CapabilityDeclarations;
  /** Omit for connectors that need no credentials. */
  readonly connection?: ConnectionDefinition;
  /** Keyed by action id. */
  readonly actions: A;
}

export type Connector<
  A extends Record<string, ActionDefinition> = Record<string, ActionDefinition>,
> = ConnectorDefinition<A> & { readonly kind: 'roster.connector' };

const ID = /^[a-z][a-z0-9.-]{0,63}$/;
const ACTION_ID = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const HOST =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/;

export function defineAction<
  I extends z.ZodType,
  O extends z.ZodType,
  const U extends CapabilityName = never,
>(definition: ActionDefinition<U, I, O>): ActionDefinition<U, I, O> {
  return definition;
}

function invalid(message: string, details?: Record<string, unknown>): never {
  throw new PluginSdkError('INVALID_DEFINITION', message, details);
}

export function defineConnector<const A extends Record<string, ActionDefinition>>(
  definition: ConnectorDefinition<A>,
): Connector<A> {
  const { id, version, capabilities, actions } = definition;
  if (!ID.test(id)) invalid(`Connector id "${id}" must match ${ID} (lower-case, e.g. "acme-crm").`);
  if (!SEMVER.test(version))
    invalid(`Connector version "${version}" must be semver, e.g. "1.0.0".`);
  for (const host of capabilities.http?.hosts ?? []) {
    if (!HOST.test(host)) {
      invalid(
        `Declared http host "${host}" must be a bare lower-case host name (no scheme, port, path or wildcard).`,
        { host },
      );
    }
  }
  const actionIds = Object.keys(actions);
  if (actionIds.length === 0) invalid(`Connector "${id}" declares no actions: add at least one.`);
  for (const actionId of actionIds) {
    if (!ACTION_ID.test(actionId)) invalid(`Action id "${actionId}" must match ${ACTION_ID}.`);
    const action = actions[actionId]!;
    if (typeof action.run !== 'function') invalid(`Action "${actionId}" has no run(ctx, input).`);
    for (const used of action.uses ?? []) {
      if (capabilities[used] === undefined) {
        invalid(
          `Action "${actionId}" uses "${used}" but the connector does not declare it: add capabilities.${used}.`,
          { actionId, capability: used },
        );
      }
    }
  }
  return { ...definition, kind: 'roster.connector' };
}
