import { Logger } from 'graphile-worker';

/** graphile-worker's logger with only errors and warnings, as single lines on stderr. */
export const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') process.stderr.write(`[worker] ${message}\n`);
});
