import { parseCrontab } from 'graphile-worker';
import { describe, expect, it } from 'vitest';
import { RETENTION_CRONTAB, RETENTION_TASK } from './retention-tasks.js';

describe('retention crontab', () => {
  it('schedules one daily sweep in its own queue (graphile-worker enqueues each tick once)', () => {
    const items = parseCrontab(RETENTION_CRONTAB);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      task: RETENTION_TASK,
      options: { queueName: 'roster_retention', maxAttempts: 3 },
    });
    expect(items[0]?.match({ min: 17, hour: 3, date: 1, month: 1, dow: 1 })).toBe(true);
    expect(items[0]?.match({ min: 17, hour: 4, date: 1, month: 1, dow: 1 })).toBe(false);
  });
});
