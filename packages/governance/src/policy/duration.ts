// ISO-8601 durations as retention periods ("P30D", "P1Y6M", "PT12H"). Calendar parts (years,
// months, days) move the UTC calendar with JavaScript Date rules (31 March minus P1M is 3 March).

const PATTERN =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

export interface IsoDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** Parses an ISO-8601 duration with whole numbers (`P90D`, `P1Y`, `PT36H`); null when it is not one. */
export function parseIsoDuration(text: string): IsoDuration | null {
  const m = PATTERN.exec(text);
  if (!m) return null;
  const n = (i: number) => Number(m[i] ?? 0);
  return {
    years: n(1),
    months: n(2),
    weeks: n(3),
    days: n(4),
    hours: n(5),
    minutes: n(6),
    seconds: n(7),
  };
}

/** `at` minus `duration` (what is older than this has passed its retention). */
export function subtractIsoDuration(at: Date, duration: string): Date {
  const d = parseIsoDuration(duration);
  if (!d) throw new RangeError(`"${duration}" is not an ISO-8601 duration such as P30D.`);
  const out = new Date(at.getTime());
  out.setUTCFullYear(out.getUTCFullYear() - d.years, out.getUTCMonth() - d.months);
  out.setUTCDate(out.getUTCDate() - d.weeks * 7 - d.days);
  return new Date(out.getTime() - ((d.hours * 60 + d.minutes) * 60 + d.seconds) * 1000);
}
