import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';
import { callSlack } from '../transport.js';

export const openChannel = defineAction({
  title: 'Open a channel',
  description: 'conversations.open: a direct or group message channel with the given users.',
  uses: ['http'],
  input: z.object({ users: z.array(z.string().min(1)).min(1).max(8) }),
  output: z.object({ channel: z.string() }),
  async run(ctx, input) {
    const answer = await callSlack<{ channel: { id: string } }>(ctx, 'conversations.open', {
      users: input.users.join(','),
      return_im: true,
    });
    return { channel: answer.channel.id };
  },
});
