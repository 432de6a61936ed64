import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';

export const testConnection = defineAction({
  title: 'Test connection',
  description: 'Connects and reports the server version.',
  uses: ['sql'],
  input: z.object({}),
  output: z.object({ ok: z.boolean(), serverVersion: z.string() }),
  async run(ctx) {
    const { rows } = await ctx.sql.query<{ v: string }>(
      "select current_setting('server_version') as v",
    );
    return { ok: true, serverVersion: rows[0]?.v ?? '' };
  },
});
