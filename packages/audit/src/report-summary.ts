import {
  AUDIT_ACTIONS,
  type AuditActionName,
  isKnownAction,
  type ReviewOutcome,
  readActionData,
} from './actions.js';
import type { AuditEvent } from './event.js';

export interface DecisionRow {
  model: string;
  modelVersion: string;
  auto: number;
  review: number;
  meanConfidence: number;
}

export interface ReviewSummary {
  decided: number;
  onTime: number;
  breached: number;
  /** Minutes from opening to decision; null without reviews. */
  medianMinutes: number | null;
  p90Minutes: number | null;
  byOutcome: Record<ReviewOutcome, number>;
}

export interface ChangeRow {
  seq: number;
  occurredAt: string;
  action: string;
  actor: string;
  subject: string;
  summary: string;
}

export type ActivityCategory = 'decisions' | 'reviews' | 'changes' | 'other';
export const ACTIVITY_CATEGORIES: readonly ActivityCategory[] = [
  'decisions',
  'reviews',
  'changes',
  'other',
];

export interface ActivityBucket {
  start: string;
  counts: Record<ActivityCategory, number>;
}

export interface ActionCount {
  action: string;
  count: number;
}

/** What a report shows, computed from an export's events in one pass. */
export interface AuditReportSummary {
  events: number;
  firstOccurredAt: string | null;
  lastOccurredAt: string | null;
  actions: ActionCount[];
  decisions: { total: number; auto: number; review: number; rows: DecisionRow[] };
  reviews: ReviewSummary;
  changes: { total: number; rows: ChangeRow[]; omitted: number };
  /** Actions this version of Roster does not summarize, by count. */
  unknownActions: ActionCount[];
  /** Known actions whose data did not have the documented shape. */
  unreadable: ActionCount[];
  activity: { bucketLabel: string; bucketMs: number; buckets: ActivityBucket[] };
}

export interface ReportSummaryOptions {
  /** Change rows kept for the table; later ones are counted as omitted. Default 500. */
  maxChangeRows?: number;
}

const HOUR = 3_600_000;
const BUCKETS: readonly [number, string][] = [
  [HOUR, 'hour'],
  [6 * HOUR, '6 hours'],
  [24 * HOUR, 'day'],
  [7 * 24 * HOUR, 'week'],
  [28 * 24 * HOUR, '4 weeks'],
  [364 * 24 * HOUR, '52 weeks'],
];
/** Charts stay readable up to about this many bars. */
const MAX_BUCKETS = 60;

/**
 * Accumulates the figures of a report, one event at a time in constant memory apart from
 * review durations (one number per review) and the first maxChangeRows change rows.
 */
export class AuditReportBuilder {
  private events = 0;
  private first: string | null = null;
  private last: string | null = null;
  private readonly actions = new Map<string, number>();
  private readonly unreadableCounts = new Map<string, number>();
  private readonly models = new Map<string, DecisionRow & { confidenceSum: number }>();
  private readonly durations: number[] = [];
  private readonly review: Omit<ReviewSummary, 'medianMinutes' | 'p90Minutes'> = {
    decided: 0,
    onTime: 0,
    breached: 0,
    byOutcome: { approved: 0, rejected: 0, corrected: 0 },
  };
  private readonly changeRows: ChangeRow[] = [];
  private changeTotal = 0;
  /** Counts per hour since the epoch, re-bucketed when the summary is made. */
  private readonly hourly = new Map<number, Record<ActivityCategory, number>>();
  private readonly maxChangeRows: number;

  constructor(options: ReportSummaryOptions = {}) {
    this.maxChangeRows = options.maxChangeRows ?? 500;
  }

  add(event: AuditEvent): void {
    this.events++;
    this.first ??= event.occurredAt;
    this.last = event.occurredAt;
    this.actions.set(event.action, (this.actions.get(event.action) ?? 0) + 1);
    const category = this.classify(event);
    const hour = Math.floor(Date.parse(event.occurredAt) / HOUR);
    let counts = this.hourly.get(hour);
    if (counts === undefined) {
      counts = { decisions: 0, reviews: 0, changes: 0, other: 0 };
      this.hourly.set(hour, counts);
    }
    counts[category]++;
  }

  /** The summary; `period` is the export's period, which the activity chart spans. */
  summary(period: { start: string; end: string }): AuditReportSummary {
    const sorted = Float64Array.from(this.durations).sort();
    const rows = [...this.models.values()]
      .map(({ confidenceSum, ...row }) => ({
        ...row,
        meanConfidence: confidenceSum / (row.auto + row.review),
      }))
      .sort((a, b) => b.auto + b.review - (a.auto + a.review) || a.model.localeCompare(b.model));
    const byCount = (map: Map<string, number>, keep: (action: string) => boolean) =>
      [...map]
        .filter(([action]) => keep(action))
        .map(([action, count]) => ({ action, count }))
        .sort((a, b) => b.count - a.count || a.action.localeCompare(b.action));
    return {
      events: this.events,
      firstOccurredAt: this.first,
      lastOccurredAt: this.last,
      actions: byCount(this.actions, () => true),
      decisions: {
        total: rows.reduce((n, r) => n + r.auto + r.review, 0),
        auto: rows.reduce((n, r) => n + r.auto, 0),
        review: rows.reduce((n, r) => n + r.review, 0),
        rows,
      },
      reviews: {
        ...this.review,
        byOutcome: { ...this.review.byOutcome },
        medianMinutes: quantile(sorted, 0.5),
        p90Minutes: quantile(sorted, 0.9),
      },
      changes: {
        total: this.changeTotal,
        rows: [...this.changeRows],
        omitted: this.changeTotal - this.changeRows.length,
      },
      unknownActions: byCount(this.actions, (action) => !isKnownAction(action)),
      unreadable: byCount(this.unreadableCounts, () => true),
      activity: this.activity(period),
    };
  }

  private classify(event: AuditEvent): ActivityCategory {
    const action = event.action;
    if (!isKnownAction(action)) return 'other';
    if (action === AUDIT_ACTIONS.decisionRecorded) {
      const d = readActionData(event, AUDIT_ACTIONS.decisionRecorded);
      if (d === null) return this.unreadable(action);
      const key = `${d.model}\u0000${d.modelVersion}`;
      let row = this.models.get(key);
      if (row === undefined) {
        row = {
          model: d.model,
          modelVersion: d.modelVersion,
          auto: 0,
          review: 0,
          meanConfidence: 0,
          confidenceSum: 0,
        };
        this.models.set(key, row);
      }
      row[d.outcome]++;
      row.confidenceSum += d.confidence;
      return 'decisions';
    }
    if (action === AUDIT_ACTIONS.reviewDecided) {
      const d = readActionData(event, AUDIT_ACTIONS.reviewDecided);
      if (d === null) return this.unreadable(action);
      const decided = Date.parse(d.decidedAt);
      this.review.decided++;
      // A task without an SLA is neither on time nor late.
      if (d.dueAt !== null) {
        if (decided <= Date.parse(d.dueAt)) this.review.onTime++;
        else this.review.breached++;
      }
      this.review.byOutcome[d.outcome]++;
      this.durations.push(Math.max(0, decided - Date.parse(d.openedAt)) / 60_000);
      return 'reviews';
    }
    const summary = describeChange(event, action);
    if (summary === null) return this.unreadable(action);
    this.changeTotal++;
    if (this.changeRows.length < this.maxChangeRows) {
      this.changeRows.push({
        seq: event.seq,
        occurredAt: event.occurredAt,
        action,
        actor: `${event.actor.type}:${event.actor.id}`,
        subject: `${event.subject.type}:${event.subject.id}`,
        summary,
      });
    }
    return 'changes';
  }

  private unreadable(action: string): 'other' {
    this.unreadableCounts.set(action, (this.unreadableCounts.get(action) ?? 0) + 1);
    return 'other';
  }

  private activity(period: { start: string; end: string }): AuditReportSummary['activity'] {
    let from = Date.parse(period.start);
    let to = Date.parse(period.end);
    for (const hour of this.hourly.keys()) {
      from = Math.min(from, hour * HOUR);
      to = Math.max(to, (hour + 1) * HOUR);
    }
    const span = Math.max(to - from, HOUR);
    const [bucketMs, bucketLabel] =
      BUCKETS.find(([ms]) => span / ms <= MAX_BUCKETS) ?? BUCKETS.at(-1)!;
    const start = Math.floor(from / HOUR) * HOUR;
    const count = Math.max(1, Math.ceil((to - start) / bucketMs));
    const buckets: ActivityBucket[] = Array.from({ length: count }, (_, i) => ({
      start: new Date(start + i * bucketMs).toISOString(),
      counts: { decisions: 0, reviews: 0, changes: 0, other: 0 },
    }));
    for (const [hour, counts] of this.hourly) {
      const bucket = buckets[Math.min(count - 1, Math.floor((hour * HOUR - start) / bucketMs))]!;
      for (const category of ACTIVITY_CATEGORIES) bucket.counts[category] += counts[category];
    }
    return { bucketLabel, bucketMs, buckets };
  }
}

/** One line for the changes table, or null when the data does not have the action's shape. */
function describeChange(event: AuditEvent, action: AuditActionName): string | null {
  switch (action) {
    case 'policy.changed': {
      const d = readActionData(event, action);
      return d && `${d.policy}: ${d.summary}`;
    }
    case 'permission.changed': {
      const d = readActionData(event, action);
      if (d === null) return null;
      const parts = [...d.granted.map((p) => `+${p}`), ...d.revoked.map((p) => `-${p}`)];
      return `role ${d.role}: ${parts.join(', ') || 'no change'}`;
    }
    case 'member.role_changed': {
      const d = readActionData(event, action);
      return d && `member ${d.memberId}: ${d.fromRole ?? '(none)'} -> ${d.toRole ?? '(none)'}`;
    }
    case 'apikey.created': {
      const d = readActionData(event, action);
      return d && `key ${d.keyPrefix} "${d.name}" scopes ${d.scopes.join(', ') || '(none)'}`;
    }
    case 'apikey.revoked': {
      const d = readActionData(event, action);
      return d && `key ${d.keyPrefix} "${d.name}" revoked`;
    }
    default:
      return null;
  }
}

/** Nearest-rank quantile of sorted values; null when empty. */
function quantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
