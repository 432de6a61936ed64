// Business-hours arithmetic for review SLAs: "2 hours" means two hours of the tenant's working
// time in the tenant's zone, so a task opened Friday 16:30 with a 2h SLA is due Monday 10:30.
// luxon resolves wall-clock times in the zone (DST gaps and overlaps) from the IANA database.

import { DateTime } from 'luxon';
import { GovernanceError } from '../errors.js';

/** When a tenant works, in its own time zone. */
export interface BusinessCalendar {
  /** IANA zone, e.g. `Europe/Paris`. */
  timeZone: string;
  /** ISO weekdays worked: 1 = Monday … 7 = Sunday. */
  workDays: number[];
  /** Local opening time `HH:mm`. */
  dayStart: string;
  /** Local closing time `HH:mm` (`24:00` = midnight at the end of the day); after dayStart. */
  dayEnd: string;
  /** Local dates (`YYYY-MM-DD`) not worked. */
  holidays: string[];
}

/** Mon–Fri 09:00–17:00 UTC, no holidays: what a tenant has until it sets its own. */
export const DEFAULT_BUSINESS_CALENDAR: BusinessCalendar = {
  timeZone: 'UTC',
  workDays: [1, 2, 3, 4, 5],
  dayStart: '09:00',
  dayEnd: '17:00',
  holidays: [],
};

const TIME = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
/** Longest search for enough working time (holidays could otherwise make it endless). */
const MAX_DAYS = 3 * 366;

function invalid(field: string, message: string): GovernanceError {
  return new GovernanceError('BUSINESS_CALENDAR_INVALID', message, { field });
}

function minutesOf(time: string): number {
  const [h, m] = time.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/** Checks a calendar (from settings input) and returns it normalised; names the bad field. */
export function parseBusinessCalendar(input: Partial<BusinessCalendar>): BusinessCalendar {
  const cal = { ...DEFAULT_BUSINESS_CALENDAR, ...input };
  if (!DateTime.local().setZone(cal.timeZone).isValid) {
    throw invalid(
      'timeZone',
      `Time zone "${cal.timeZone}" is not an IANA zone: use a name like Europe/Paris or America/New_York.`,
    );
  }
  const days = [...new Set(cal.workDays)].sort();
  if (days.length === 0 || days.some((d) => !Number.isInteger(d) || d < 1 || d > 7)) {
    throw invalid(
      'workDays',
      'workDays needs at least one ISO weekday from 1 (Monday) to 7 (Sunday).',
    );
  }
  for (const field of ['dayStart', 'dayEnd'] as const) {
    if (!TIME.test(cal[field])) throw invalid(field, `${field} must be a time HH:mm, e.g. 09:00.`);
  }
  if (minutesOf(cal.dayStart) >= minutesOf(cal.dayEnd)) {
    throw invalid('dayEnd', `dayEnd (${cal.dayEnd}) must be after dayStart (${cal.dayStart}).`);
  }
  for (const day of cal.holidays) {
    if (!DATE.test(day) || !DateTime.fromISO(day).isValid) {
      throw invalid('holidays', `Holiday "${day}" is not a date YYYY-MM-DD.`);
    }
  }
  return { ...cal, workDays: days, holidays: [...new Set(cal.holidays)].sort() };
}

/** The working window of the local day `day` (start of day in the zone), or null when closed. */
function windowOf(day: DateTime, cal: BusinessCalendar, holidays: Set<string>) {
  if (!cal.workDays.includes(day.weekday) || holidays.has(day.toISODate() ?? '')) return null;
  const at = (time: string) => {
    const minutes = minutesOf(time);
    if (minutes === 24 * 60) return day.plus({ days: 1 });
    // fromObject resolves a wall time in a DST gap forward, and an ambiguous one to its first instant.
    return DateTime.fromObject(
      {
        year: day.year,
        month: day.month,
        day: day.day,
        hour: Math.floor(minutes / 60),
        minute: minutes % 60,
      },
      { zone: cal.timeZone },
    );
  };
  return { open: at(cal.dayStart), close: at(cal.dayEnd) };
}

/**
 * `start` plus `minutes` of working time. Time is counted as it elapses (a working day that
 * spans a DST change has one hour more or less), and starts at the next opening when `start`
 * falls outside working hours.
 */
export function addBusinessMinutes(start: Date, minutes: number, cal: BusinessCalendar): Date {
  if (!Number.isFinite(minutes) || minutes < 0) {
    throw new GovernanceError(
      'BUSINESS_CALENDAR_INVALID',
      `Cannot add ${minutes} business minutes: give a number of minutes of 0 or more.`,
      { field: 'minutes' },
    );
  }
  const holidays = new Set(cal.holidays);
  let remaining = minutes * 60_000;
  let cursor = DateTime.fromJSDate(start, { zone: cal.timeZone });
  let day = cursor.startOf('day');
  for (let i = 0; i < MAX_DAYS; i++) {
    const window = windowOf(day, cal, holidays);
    if (window && cursor < window.close) {
      if (cursor < window.open) cursor = window.open;
      const available = window.close.toMillis() - cursor.toMillis();
      if (remaining <= available) return new Date(cursor.toMillis() + remaining);
      remaining -= available;
    }
    day = day.plus({ days: 1 });
    if (cursor < day) cursor = day;
  }
  throw new GovernanceError(
    'BUSINESS_CALENDAR_INVALID',
    `The calendar has no ${minutes} working minutes within ${MAX_DAYS} days of ${start.toISOString()}: check its work days and holidays.`,
    { field: 'holidays' },
  );
}
