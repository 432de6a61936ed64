import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';
import { bodyOf, send } from '../transport.js';

export const request = defineAction({
  title: 'Call a REST endpoint',
  description: 'Any method and path under the connection base URL; JSON in and out.',
  uses: ['http'],
  input: z.object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    path: z.string(),
    query: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    json: z.unknown().optional(),
    body: z.string().optional(),
  }),
  output: z.object({
    status: z.number().int(),
    headers: z.record(z.string(), z.string()),
    body: z.unknown(),
  }),
  async run(ctx, input) {
    const response = await send(ctx, {
      method: input.method ?? 'GET',
      path: input.path,
      ...(input.query ? { query: input.query } : {}),
      headers: { 'idempotency-key': ctx.idempotencyKey, ...input.headers },
      ...(input.json === undefined ? {} : { json: input.json }),
      ...(input.body === undefined ? {} : { body: input.body }),
    });
    ctx.log.info('http request', {
      method: input.method,
      path: input.path,
      status: response.status,
    });
    return { status: response.status, headers: response.headers, body: bodyOf(response) };
  },
});
