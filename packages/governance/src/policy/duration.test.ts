import { describe, expect, it } from 'vitest';
import { parseIsoDuration, subtractIsoDuration } from './duration.js';

describe('ISO-8601 retention durations', () => {
  it('parses whole-number durations and rejects other text', () => {
    expect(parseIsoDuration('P1Y6M')).toMatchObject({ years: 1, months: 6, days: 0 });
    expect(parseIsoDuration('PT36H')).toMatchObject({ hours: 36 });
    for (const bad of ['P', 'PT', '90d', 'P-1D', 'P1.5D', 'forever']) {
      expect(parseIsoDuration(bad)).toBeNull();
    }
  });

  it('subtracts calendar and clock parts', () => {
    const at = new Date('2026-03-15T12:00:00Z');
    expect(subtractIsoDuration(at, 'P30D').toISOString()).toBe('2026-02-13T12:00:00.000Z');
    expect(subtractIsoDuration(at, 'P1Y2M').toISOString()).toBe('2025-01-15T12:00:00.000Z');
    expect(subtractIsoDuration(at, 'P1WT1H30M').toISOString()).toBe('2026-03-08T10:30:00.000Z');
  });
});
