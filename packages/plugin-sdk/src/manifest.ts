import { z } from 'zod';
import { type CapabilityDeclarations, type CapabilityName } from './capabilities.js';
import { checkConnector } from './connector-check.js';
import type { Connector } from './define.js';
import { PluginSdkError } from './errors.js';

/** A JSON Schema document (draft 2020-12), as produced by `z.toJSONSchema`. */
export type JsonSchema = Record<string, unknown>;

export interface ActionManifest {
  readonly title: string;
  readonly description?: string;
  readonly uses: readonly CapabilityName[];
  readonly input: JsonSchema;
  readonly output: JsonSchema;
}

export interface PluginManifest {
  readonly manifestVersion: 1;
  readonly id: string;
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly capabilities: CapabilityDeclarations;
  readonly connection: {
    readonly description?: string;
    readonly schema: JsonSchema;
    /** The action that tests the credentials (ConnectionDefinition.test). */
    readonly test?: string;
  } | null;
  readonly actions: Readonly<Record<string, ActionManifest>>;
}

function schemaOf(schema: z.ZodType, io: 'input' | 'output', where: string): JsonSchema {
  try {
    return z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as JsonSchema;
  } catch (error) {
    throw new PluginSdkError(
      'INVALID_DEFINITION',
      `${where} cannot be expressed as JSON Schema (transforms, dates, functions and custom checks are not representable): use plain JSON types.`,
      { where },
      { cause: error },
    );
  }
}

function connectionSchema(connector: Connector): JsonSchema {
  const schema = schemaOf(connector.connection!.schema, 'input', 'Connection schema');
  const properties = (schema.properties ?? {}) as Record<string, unknown>;
  for (const field of connector.capabilities.http?.hostsFromConnection ?? []) {
    if (!Object.hasOwn(properties, field)) {
      throw new PluginSdkError(
        'INVALID_DEFINITION',
        `capabilities.http.hostsFromConnection names "${field}" but the connection schema has no such field: add it (a URL string).`,
        { field },
      );
    }
  }
  return schema;
}

/** Pack-time: the manifest the host validates against (so plugin bundles need no zod). */
export function toManifest(connector: Connector): PluginManifest {
  checkConnector(connector);
  const actions: Record<string, ActionManifest> = {};
  for (const [actionId, action] of Object.entries(connector.actions)) {
    actions[actionId] = {
      title: action.title,
      ...(action.description === undefined ? {} : { description: action.description }),
      uses: [...(action.uses ?? [])],
      // What callers send (defaults optional) and what the plugin must return.
      input: schemaOf(action.input, 'input', `Action "${actionId}" input`),
      output: schemaOf(action.output, 'output', `Action "${actionId}" output`),
    };
  }
  return {
    manifestVersion: 1,
    id: connector.id,
    name: connector.name,
    version: connector.version,
    description: connector.description,
    capabilities: JSON.parse(JSON.stringify(connector.capabilities)) as CapabilityDeclarations,
    connection: connector.connection
      ? {
          ...(connector.connection.description === undefined
            ? {}
            : { description: connector.connection.description }),
          schema: connectionSchema(connector),
          ...(connector.connection.test === undefined ? {} : { test: connector.connection.test }),
        }
      : null,
    actions,
  };
}
