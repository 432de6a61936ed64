import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';

export const sendEmail = defineAction({
  title: 'Send an email',
  description: "Sends through the connection's SMTP server, from its sender address.",
  uses: ['smtp'],
  input: z.object({
    to: z.array(z.email()).min(1).max(50),
    cc: z.array(z.email()).max(50).optional(),
    subject: z.string().min(1).max(998),
    text: z.string().optional(),
    html: z.string().optional(),
    replyTo: z.email().optional(),
  }),
  output: z.object({ messageId: z.string(), accepted: z.array(z.string()) }),
  async run(ctx, input) {
    if (input.text === undefined && input.html === undefined) {
      const error = new Error('Give the email a text or an html body.') as Error & { code: string };
      error.code = 'EMPTY_BODY';
      throw error;
    }
    return ctx.smtp.send({
      from: ctx.secrets.from ?? '',
      to: input.to,
      ...(input.cc ? { cc: input.cc } : {}),
      subject: input.subject,
      ...(input.text === undefined ? {} : { text: input.text }),
      ...(input.html === undefined ? {} : { html: input.html }),
      ...(input.replyTo ? { headers: { 'Reply-To': input.replyTo } } : {}),
    });
  },
});
