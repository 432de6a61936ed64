import type { ConnectionDefinition } from '@roster/plugin-sdk';
import { z } from 'zod';

// The host's smtp capability reads host, port, secure, username and password to reach the
// server; the plugin itself only uses `from`.
export const connection = {
  description: 'The SMTP server to send through and the sender address.',
  schema: z.object({
    host: z.string().min(1),
    port: z.string().regex(/^\d+$/),
    secure: z.enum(['true', 'false']).optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    from: z.email(),
  }),
  test: 'testConnection',
} satisfies ConnectionDefinition;
