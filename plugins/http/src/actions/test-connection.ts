import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';
import { send } from '../transport.js';

export const testConnection = defineAction({
  title: 'Test connection',
  description: 'GETs a path under the base URL; ok when the answer is not an error status.',
  uses: ['http'],
  input: z.object({ path: z.string().default('/') }),
  output: z.object({ ok: z.boolean(), status: z.number().int() }),
  async run(ctx, input) {
    const response = await send(ctx, { method: 'GET', path: input.path ?? '/' });
    return { ok: response.status < 400, status: response.status };
  },
});
