import { Logger } from 'graphile-worker';

const writeLine = (level: string, message: string) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`[worker] ${message}\n`);
};

/** graphile-worker's logger with only errors and warnings, as single lines on stderr. */
export const quietLogger = new Logger(() => writeLine);

/**
 * quietLogger for a Roster worker pool, less graphile-worker's two warnings that its connection
 * pool and its local queue are smaller than its concurrency. A Roster pool's concurrency counts
 * the step jobs awaiting their commit, which use neither (ExecutionSlots); its queue fetches
 * only as many jobs at once as it has execution slots.
 */
export const workerPoolLogger = new Logger(() => (level, message, meta) => {
  if (level === 'warning' && meta && 'max' in meta && 'concurrency' in meta) return;
  if (level === 'warning' && message.startsWith('Your job batch size')) return;
  writeLine(level, message);
});
