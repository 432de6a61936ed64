/**
 * SQLSTATEs and socket errors of a Postgres that is restarting or not accepting connections yet:
 * admin_shutdown, crash_shutdown, cannot_connect_now, the connection_exception class.
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

/** Whether an error says Postgres could not be reached, rather than that something is wrong. */
export function isPostgresUnreachable(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) return true;
  return /Connection terminated/i.test((err as Error | null)?.message ?? '');
}

export interface StartOptions {
  /** Stop trying (the process is shutting down). */
  stopped?: () => boolean;
  /** Give up after this long. Default 60 s. */
  giveUpMs?: number;
  /** First wait; doubled after each failure up to `maxDelayMs`. Default 250 ms. */
  firstDelayMs?: number;
  /** Default 5 s. */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Starts something that needs Postgres, trying again with backoff while Postgres cannot be
 * reached (a worker starting during a Postgres restart), for up to `giveUpMs`. Any other error,
 * and the last one after giving up, is thrown. Resolves undefined when `stopped` turns true.
 */
export async function startWhenPostgresAnswers<T>(
  start: () => Promise<T>,
  options: StartOptions = {},
): Promise<T | undefined> {
  const sleep =
    options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const giveUpAt = Date.now() + (options.giveUpMs ?? 60_000);
  let delay = options.firstDelayMs ?? 250;
  for (;;) {
    if (options.stopped?.()) return undefined;
    try {
      return await start();
    } catch (err) {
      if (!isPostgresUnreachable(err) || Date.now() + delay > giveUpAt) throw err;
    }
    await sleep(delay);
    delay = Math.min(delay * 2, options.maxDelayMs ?? 5_000);
  }
}
