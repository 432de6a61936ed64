import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConnector } from './connector-check.js';
import { defineAction } from './define.js';
import { toManifest } from './manifest.js';

describe('toManifest', () => {
  const connector = defineConnector({
    id: 'acme-crm',
    name: 'Acme CRM',
    version: '2.1.0',
    description: 'Contacts in Acme',
    capabilities: { http: { hosts: ['api.example.com'] }, kv: {} },
    connection: {
      description: 'An Acme API token',
      schema: z.object({ apiToken: z.string().min(10) }),
    },
    actions: {
      createContact: defineAction({
        title: 'Create contact',
        uses: ['http', 'kv'],
        input: z.object({ email: z.email(), tags: z.array(z.string()).default([]) }),
        output: z.object({ id: z.string() }),
        run: async () => ({ id: 'c1' }),
      }),
    },
  });

  it('exports inputs, outputs and the connection as JSON Schema', () => {
    const manifest = toManifest(connector);
    expect(manifest).toMatchObject({
      manifestVersion: 1,
      id: 'acme-crm',
      version: '2.1.0',
      capabilities: { http: { hosts: ['api.example.com'] }, kv: {} },
    });
    const action = manifest.actions.createContact!;
    expect(action.uses).toEqual(['http', 'kv']);
    expect(action.input).toMatchObject({
      type: 'object',
      properties: { email: { type: 'string', format: 'email' }, tags: { type: 'array' } },
      required: ['email'],
    });
    expect(action.output).toMatchObject({ type: 'object', required: ['id'] });
    expect(manifest.connection?.schema).toMatchObject({
      properties: { apiToken: { type: 'string', minLength: 10 } },
    });
    // The manifest travels as JSON: it must survive a round trip unchanged.
    expect(JSON.parse(JSON.stringify(manifest))).toEqual(manifest);
  });

  it('refuses schemas JSON Schema cannot express', () => {
    const bad = defineConnector({
      ...connector,
      actions: {
        when: defineAction({
          title: 'When',
          input: z.object({ at: z.date() }),
          output: z.object({}),
          run: async () => ({}),
        }),
      },
    });
    expect(() => toManifest(bad)).toThrow(/cannot be expressed as JSON Schema/);
  });
});
