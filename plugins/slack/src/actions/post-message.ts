import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';
import { callSlack } from '../transport.js';

export const postMessage = defineAction({
  title: 'Post a message',
  description: 'chat.postMessage to a channel (id or name), optionally in a thread.',
  uses: ['http'],
  input: z.object({
    channel: z.string().min(1),
    text: z.string().min(1).max(40_000),
    threadTs: z.string().optional(),
  }),
  output: z.object({ channel: z.string(), ts: z.string() }),
  async run(ctx, input) {
    const answer = await callSlack<{ channel: string; ts: string }>(ctx, 'chat.postMessage', {
      channel: input.channel,
      text: input.text,
      ...(input.threadTs ? { thread_ts: input.threadTs } : {}),
    });
    return { channel: answer.channel, ts: answer.ts };
  },
});
