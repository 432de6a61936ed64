import { isIP } from 'node:net';
import { z } from 'zod';

const port = z.coerce.number().int().min(1).max(65_535);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const postgresUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'a postgres:// or postgresql:// URL');

/** An address, a CIDR with a prefix that fits its family, or a host name. */
function isEgressEntry(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  if (extra !== undefined) return false;
  const family = isIP(address);
  if (family === 0)
    return prefix === undefined && /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i.test(address);
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d{1,3}$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}

const list = (v: string) =>
  v
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
const isMasterKey = (v: string) =>
  Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]{43}=$/.test(v);
const masterKey = z
  .string()
  .refine(isMasterKey, 'base64 of exactly 32 bytes (openssl rand -base64 32)');

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
  /**
   * The ed25519 private key (PKCS#8 PEM, or the path of a PEM file) that signs audit digests and
   * exports. Unset: generated once under ROSTER_HOME (audit-signing.key, mode 0600).
   */
  ROSTER_AUDIT_SIGNING_KEY: z.string().min(1).optional(),
  /** Seed a demo tenant with an admin and an API key on first start. */
  ROSTER_SEED_DEMO: bool.default(true),
  /**
   * Outbound HTTP (run callbacks) refuses loopback, private, link-local and metadata addresses;
   * this comma-separated list of CIDRs, addresses or host names allows some anyway. Default: none.
   */
  ROSTER_EGRESS_ALLOW: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((entry) => entry.trim())
        .filter((entry) => entry.length > 0),
    )
    .refine(
      (entries) => entries.every(isEgressEntry),
      'comma-separated IP addresses, CIDRs (10.0.0.0/8, ::1/128) or host names',
    ),
  /**
   * Master key wrapping each tenant's data key (connections are encrypted with those): base64 of
   * 32 random bytes (`openssl rand -base64 32`). Unset: `roster up` generates one under ROSTER_HOME.
   */
  ROSTER_MASTER_KEY: masterKey.optional(),
  /** Comma-separated earlier master keys, still accepted for unwrapping during a rotation. */
  ROSTER_MASTER_KEYS_PREVIOUS: z
    .string()
    .default('')
    .transform(list)
    .refine((keys) => keys.every(isMasterKey), 'comma-separated base64 keys of 32 bytes each'),
  /** Comma-separated e-mail addresses of platform admins: they review marketplace plugin versions. */
  ROSTER_PLATFORM_ADMINS: z
    .string()
    .default('')
    .transform((v) => list(v).map((e) => e.toLowerCase()))
    .refine(
      (emails) => emails.every((e) => /^[^@\s]+@[^@\s]+$/.test(e)),
      'comma-separated e-mail addresses',
    ),
  /**
   * Plugin HTTP egress reaches only the hosts a plugin declares, and never loopback, private or
   * metadata addresses unless listed here (CIDRs, addresses or host names). Default: none.
   */
  ROSTER_PLUGIN_EGRESS_ALLOW: z
    .string()
    .default('')
    .transform(list)
    .refine(
      (entries) => entries.every(isEgressEntry),
      'comma-separated IP addresses, CIDRs (10.0.0.0/8, ::1/128) or host names',
    ),
  /**
   * Runs of one tenant running at once, in the API and every worker; the rest wait `queued` and
   * start oldest first as slots free (a flooding tenant cannot crowd out the others).
   */
  ROSTER_MAX_RUNS_PER_TENANT: z.coerce.number().int().min(1).max(100_000).default(100),
  /**
   * How long a stopping worker process lets its connector calls in flight finish. Past it they are
   * aborted and their steps run again on a worker that is up (same attempt and idempotency key).
   */
  ROSTER_WORKER_STOP_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  /** Port of the inbound SMTP listener (e-mail triggers), on API_HOST. 0 turns it off. */
  ROSTER_INBOUND_SMTP_PORT: z.coerce.number().int().min(0).max(65_535).default(2525),
  /** Domain of e-mail trigger addresses (`<local part>@<domain>`); its MX should point here. */
  ROSTER_INBOUND_EMAIL_DOMAIN: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/i, 'a domain name such as inbound.example.com')
    .default('inbound.roster.test'),
});

export type Config = z.infer<typeof configSchema>;
export type ConfigKey = keyof Config;
export const configKeys = Object.keys(configSchema.shape) as ConfigKey[];
