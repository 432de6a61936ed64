import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';
import { type Config, configSchema } from './schema.js';

const SECRET_VARIABLES = new Set([
  'DATABASE_URL',
  'DATABASE_APP_PASSWORD',
  'ROSTER_MASTER_KEY',
  'ROSTER_MASTER_KEYS_PREVIOUS',
]);

/** Parses the environment once; throws ConfigError naming every bad variable. */
export function loadConfig(env: Record<string, string | undefined>): Config {
  // An empty variable means "unset": shells and .env files often leave them blank.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = configSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new ConfigError(parsed.error.issues.map((issue) => toIssue(issue, present)));
}

function toIssue(issue: z.core.$ZodIssue, env: Record<string, string | undefined>): ConfigIssue {
  const variable = String(issue.path[0] ?? '(unknown)');
  const raw = env[variable];
  return {
    variable,
    expected: expectedOf(issue),
    ...(raw !== undefined && !SECRET_VARIABLES.has(variable) ? { received: raw } : {}),
  };
}

function expectedOf(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'string'
        ? `at least ${issue.minimum} characters`
        : `a number >= ${issue.minimum}`;
    case 'too_big':
      return `a number <= ${issue.maximum}`;
    case 'invalid_type':
      return issue.expected === 'number' ? 'a whole number' : `a ${issue.expected}`;
    case 'custom':
      return issue.message;
    default:
      return issue.message;
  }
}

/**
 * For entry points: parse or stop the process with exit code 2 and a message naming each
 * variable and what it expected.
 */
export function loadConfigOrExit(
  env: Record<string, string | undefined>,
  io: { error: (message: string) => void; exit: (code: number) => never } = {
    error: (m) => console.error(m),
    exit: (c) => process.exit(c),
  },
): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.error(`roster: ${err.message}`);
      return io.exit(2);
    }
    throw err;
  }
}
