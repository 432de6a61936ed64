import { defineAction } from '@roster/plugin-sdk';
import { z } from 'zod';
import { callSlack } from '../transport.js';

export const testConnection = defineAction({
  title: 'Test connection',
  description: 'auth.test: checks the token and names the workspace and bot user.',
  uses: ['http'],
  input: z.object({}),
  output: z.object({ team: z.string(), user: z.string() }),
  async run(ctx) {
    const answer = await callSlack<{ team: string; user: string }>(ctx, 'auth.test', {});
    return { team: answer.team, user: answer.user };
  },
});
