// The runtime half of the SDK: this file (and what it imports) is what gets bundled into a
// plugin and run inside QuickJS, so it imports zod for types only, uses no host globals and
// stays small (QuickJS parses the whole bundle on every invocation).
import type { z } from 'zod';
import type { CapabilityDeclarations, CapabilityName } from './capabilities.js';
import type { ActionContext } from './context.js';

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
  /**
   * The id of an action (in `actions`) that checks the credentials work, e.g. by calling a
   * cheap authenticated endpoint. The portal's "test connection" runs it. Default: none.
   */
  readonly test?: string;
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

export function defineAction<
  I extends z.ZodType,
  O extends z.ZodType,
  const U extends CapabilityName = never,
>(definition: ActionDefinition<U, I, O>): ActionDefinition<U, I, O> {
  return definition;
}

/**
 * Bundle-side `defineConnector`: tags the definition and nothing else. The checks (ids,
 * version, hosts, uses) run in Node at pack time, so plugin bundles carry no regexes.
 */
export function defineConnector<const A extends Record<string, ActionDefinition>>(
  definition: ConnectorDefinition<A>,
): Connector<A> {
  return { ...definition, kind: 'roster.connector' };
}
