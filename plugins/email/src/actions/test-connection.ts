import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';

// SMTP has no "who am I": the test sends a short message to the sender address itself.
export const testConnection = defineAction({
  title: 'Test connection',
  description: 'Sends a test message to the connection sender address.',
  uses: ['smtp'],
  input: z.object({}),
  output: z.object({ ok: z.boolean(), messageId: z.string() }),
  async run(ctx) {
    const from = ctx.secrets.from ?? '';
    const sent = await ctx.smtp.send({
      from,
      to: [from],
      subject: 'Roster connection test',
      text: 'This message confirms that Roster can send through this SMTP server.',
    });
    return { ok: sent.accepted.length > 0, messageId: sent.messageId };
  },
});
