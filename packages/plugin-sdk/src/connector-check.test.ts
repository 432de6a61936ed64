import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineConnector } from './connector-check.js';
import { defineAction } from './define.js';
import { PluginSdkError } from './errors.js';

const ping = defineAction({
  title: 'Ping',
  uses: ['http'],
  input: z.object({ path: z.string() }),
  output: z.object({ status: z.number() }),
  async run(ctx, input) {
    const res = await ctx.http.fetch(`https://api.example.com${input.path}`);
    // @ts-expect-error kv is not in `uses`, so ctx has no kv
    ctx.kv;
    return { status: res.status };
  },
});

describe('defineConnector', () => {
  it('accepts a valid connector and tags it', () => {
    const connector = defineConnector({
      id: 'acme-crm',
      name: 'Acme CRM',
      version: '1.0.0',
      description: 'Talks to Acme',
      capabilities: { http: { hosts: ['api.example.com'] } },
      actions: { ping },
    });
    expect(connector.kind).toBe('roster.connector');
    expect(Object.keys(connector.actions)).toEqual(['ping']);
  });

  it('rejects an action that uses an undeclared capability, naming the fix', () => {
    const attempt = () =>
      defineConnector({
        id: 'acme-crm',
        name: 'Acme CRM',
        version: '1.0.0',
        description: 'x',
        capabilities: {},
        actions: { ping },
      });
    expect(attempt).toThrow(PluginSdkError);
    expect(attempt).toThrow(/capabilities\.http/);
  });

  it.each([
    ['https://api.example.com'],
    ['api.example.com:443'],
    ['*.example.com'],
    ['API.example.com'],
  ])('rejects the declared host %s', (host) => {
    expect(() =>
      defineConnector({
        id: 'acme',
        name: 'Acme',
        version: '1.0.0',
        description: 'x',
        capabilities: { http: { hosts: [host] } },
        actions: { ping },
      }),
    ).toThrow(/bare lower-case host/);
  });

  it('rejects a bad version and an empty action list', () => {
    const base = { id: 'acme', name: 'A', description: 'x', capabilities: {} };
    expect(() => defineConnector({ ...base, version: 'v1', actions: { ping } })).toThrow(/semver/);
    expect(() => defineConnector({ ...base, version: '1.0.0', actions: {} })).toThrow(/no actions/);
  });
});
