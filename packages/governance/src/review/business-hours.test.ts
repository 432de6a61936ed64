import { describe, expect, it } from 'vitest';
import { GovernanceError } from '../errors.js';
import {
  addBusinessMinutes,
  type BusinessCalendar,
  parseBusinessCalendar,
} from './business-hours.js';

const PARIS: BusinessCalendar = parseBusinessCalendar({
  timeZone: 'Europe/Paris',
  workDays: [1, 2, 3, 4, 5],
  dayStart: '09:00',
  dayEnd: '17:00',
});

const due = (startIso: string, minutes: number, cal = PARIS) =>
  addBusinessMinutes(new Date(startIso), minutes, cal).toISOString();

describe('addBusinessMinutes', () => {
  it('carries a Friday 16:30 task with a 2h SLA to Monday 10:30 in the tenant zone', () => {
    // Friday 27 November 2026, 16:30 in Paris (UTC+1) is 15:30Z; Monday 10:30 is 09:30Z.
    expect(due('2026-11-27T15:30:00Z', 120)).toBe('2026-11-30T09:30:00.000Z');
  });

  it('counts within a day, and lands exactly on closing time', () => {
    expect(due('2026-11-25T09:00:00Z', 60)).toBe('2026-11-25T10:00:00.000Z');
    expect(due('2026-11-25T08:00:00Z', 480)).toBe('2026-11-25T16:00:00.000Z');
  });

  it('starts at the next opening when the task arrives at night or on a weekend', () => {
    // Saturday 10:00 Paris -> Monday 09:00 + 1h.
    expect(due('2026-11-28T09:00:00Z', 60)).toBe('2026-11-30T09:00:00.000Z');
    // Tuesday 20:00 Paris -> Wednesday 09:30.
    expect(due('2026-11-24T19:00:00Z', 30)).toBe('2026-11-25T08:30:00.000Z');
  });

  it('follows the zone across the autumn DST change (UTC+2 before, UTC+1 after)', () => {
    // Friday 23 October 2026 16:00 CEST (14:00Z) + 2h -> Monday 26 October 10:00 CET (09:00Z).
    expect(due('2026-10-23T14:00:00Z', 120)).toBe('2026-10-26T09:00:00.000Z');
  });

  it('counts elapsed time on a round-the-clock calendar across the spring DST gap', () => {
    const always = parseBusinessCalendar({
      timeZone: 'Europe/Paris',
      workDays: [1, 2, 3, 4, 5, 6, 7],
      dayStart: '00:00',
      dayEnd: '24:00',
    });
    // Saturday 28 March 2026 12:00 CET (11:00Z) + 24h of work = Sunday 13:00 CEST (also 11:00Z).
    expect(due('2026-03-28T11:00:00Z', 24 * 60, always)).toBe('2026-03-29T11:00:00.000Z');
  });

  it('skips holidays', () => {
    const withHoliday = parseBusinessCalendar({ ...PARIS, holidays: ['2026-11-30'] });
    expect(due('2026-11-27T15:30:00Z', 120, withHoliday)).toBe('2026-12-01T09:30:00.000Z');
  });

  it('is due at once with a zero SLA inside hours, and at the next opening outside them', () => {
    expect(due('2026-11-25T10:00:00Z', 0)).toBe('2026-11-25T10:00:00.000Z');
    expect(due('2026-11-28T10:00:00Z', 0)).toBe('2026-11-30T08:00:00.000Z');
  });

  it('refuses a negative duration', () => {
    expect(() => due('2026-11-25T10:00:00Z', -5)).toThrow(GovernanceError);
  });
});

describe('parseBusinessCalendar', () => {
  it.each([
    [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ workDays: [] }, 'workDays'],
    [{ workDays: [0] }, 'workDays'],
    [{ dayStart: '9am' }, 'dayStart'],
    [{ dayStart: '17:00', dayEnd: '09:00' }, 'dayEnd'],
    [{ holidays: ['2026-13-45'] }, 'holidays'],
  ])('refuses %j naming %s', (input, field) => {
    try {
      parseBusinessCalendar(input as Partial<BusinessCalendar>);
      expect.unreachable();
    } catch (e) {
      expect(e).toMatchObject({ code: 'BUSINESS_CALENDAR_INVALID', details: { field } });
    }
  });

  it('fills defaults and sorts days and holidays', () => {
    expect(
      parseBusinessCalendar({ workDays: [5, 1, 1], holidays: ['2026-12-25', '2026-01-01'] }),
    ).toEqual({
      timeZone: 'UTC',
      workDays: [1, 5],
      dayStart: '09:00',
      dayEnd: '17:00',
      holidays: ['2026-01-01', '2026-12-25'],
    });
  });
});
