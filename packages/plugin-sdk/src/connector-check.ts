import type { ActionDefinition, Connector, ConnectorDefinition } from './define.js';
import { defineConnector as tagConnector } from './define.js';
import { PluginSdkError } from './errors.js';

const ID = /^[a-z][a-z0-9.-]{0,63}$/;
const ACTION_ID = /^[a-zA-Z][a-zA-Z0-9_-]{0,63}$/;
const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
const HOST =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/;

function invalid(message: string, details?: Record<string, unknown>): never {
  throw new PluginSdkError('INVALID_DEFINITION', message, details);
}

/** Throws INVALID_DEFINITION, saying what to change, when a connector is malformed. */
export function checkConnector(definition: ConnectorDefinition): void {
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
  const fromConnection = capabilities.http?.hostsFromConnection ?? [];
  if (fromConnection.length > 0 && !definition.connection) {
    invalid(
      `capabilities.http.hostsFromConnection names ${fromConnection.join(', ')} but the connector has no connection: add connection.schema with those fields.`,
    );
  }
  const actionIds = Object.keys(actions);
  const test = definition.connection?.test;
  if (test !== undefined && !Object.hasOwn(actions, test)) {
    invalid(`connection.test names "${test}" but there is no such action: add it to actions.`, {
      test,
    });
  }
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
}

/** Declares a connector; the entry of a plugin must `export default defineConnector({...})`. */
export function defineConnector<const A extends Record<string, ActionDefinition>>(
  definition: ConnectorDefinition<A>,
): Connector<A> {
  checkConnector(definition);
  return tagConnector(definition);
}
