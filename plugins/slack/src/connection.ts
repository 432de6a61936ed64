import type { ConnectionDefinition } from '@roster/plugin-sdk';
import { z } from 'zod';

export const connection = {
  description:
    'A Slack bot token (xoxb-...). baseUrl is for Slack-compatible servers; default https://slack.com/api.',
  schema: z.object({
    token: z.string().min(1),
    baseUrl: z.url().optional(),
  }),
  test: 'testConnection',
} satisfies ConnectionDefinition;
