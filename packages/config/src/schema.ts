import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65_535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'a postgres:// or postgresql:// URL');

/**
 * Every environment variable Roster reads, with its default. The README's configuration table
 * is this list; keep them together. Defaults serve a laptop: embedded Postgres, loopback only.
 */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** Where Roster keeps local state (embedded Postgres data, generated credentials). */
  ROSTER_HOME: z.string().min(1).default('.roster'),
  /** Owner connection (runs migrations). Unset: an embedded Postgres under ROSTER_HOME/pg. */
  DATABASE_URL: postgresUrl.optional(),
  /** Password of the runtime role `roster_app`. Unset: generated once and kept in ROSTER_HOME. */
  DATABASE_APP_PASSWORD: z.string().min(12).optional(),
  /** Port of the embedded Postgres (ignored with DATABASE_URL). */
  ROSTER_PG_PORT: port.default(54329),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(4000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Seed a demo tenant with an admin and an API key on first start. */
  ROSTER_SEED_DEMO: bool.default(true),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigKey = keyof Config;
export const configKeys = Object.keys(configSchema.shape) as ConfigKey[];
