import type { ConnectionDefinition } from '@roster/plugin-sdk';
import { z } from 'zod';

// The host's sql capability reads databaseUrl to connect; the plugin never opens sockets.
export const connection = {
  description: "The tenant's external Postgres database (postgres://user:pass@host:5432/db).",
  schema: z.object({ databaseUrl: z.string().regex(/^postgres(ql)?:\/\//) }),
  test: 'testConnection',
} satisfies ConnectionDefinition;
