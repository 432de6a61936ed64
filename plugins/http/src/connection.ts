import type { ConnectionDefinition } from '@roster/plugin-sdk';
import { z } from 'zod';

export const connection = {
  description:
    'The API base URL (its host becomes reachable) and, optionally, an Authorization header value.',
  schema: z.object({
    baseUrl: z.url(),
    authorization: z.string().optional(),
  }),
  test: 'testConnection',
} satisfies ConnectionDefinition;
