import { sql } from 'drizzle-orm';
import {
  bigint,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { workflowVersions } from './workflows.js';

/**
 * One execution of a workflow version. `queued` runs wait for a concurrency slot; `waiting` runs
 * hold no job (a timer job or an event resumes them); `dead_lettered` runs exhausted a step's
 * retries and wait for replayStep / retryRun.
 */
export const runs = pgTable(
  'runs',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    workflowId: uuid('workflow_id').notNull(),
    workflowVersion: integer('workflow_version').notNull(),
    status: text('status', {
      enum: ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled', 'dead_lettered'],
    })
      .notNull()
      .default('queued'),
    input: jsonb('input').notNull().default({}),
    output: jsonb('output'),
    error: jsonb('error'),
    /** Step that exhausted its retries (dead letter) or failed the run. */
    failedStep: text('failed_step'),
    idempotencyKey: text('idempotency_key'),
    /** SHA-256 of the canonical input: a repeated key with another input is a CONFLICT. */
    inputHash: text('input_hash').notNull().default(''),
    /** Bumped by replayStep / retryRun: jobs of an earlier generation are ignored. */
    generation: integer('generation').notNull().default(0),
    /** Runs of this workflow allowed in flight per tenant (DSL concurrency.maxRuns), if any. */
    maxRuns: integer('max_runs'),
    deadlineAt: timestamp('deadline_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    foreignKey({
      columns: [t.tenantId, t.workflowId, t.workflowVersion],
      foreignColumns: [
        workflowVersions.tenantId,
        workflowVersions.workflowId,
        workflowVersions.version,
      ],
    }),
    // Only the runs that have a key (migration 0045).
    uniqueIndex('runs_idempotency_key')
      .on(t.tenantId, t.idempotencyKey)
      .where(sql`idempotency_key IS NOT NULL`),
    // Admission control counts and picks runs per tenant by status.
    index('runs_tenant_status_idx').on(t.tenantId, t.status, t.createdAt),
    index('runs_active_deadline_idx')
      .on(t.deadlineAt)
      .where(sql`status IN ('queued', 'running', 'waiting')`),
  ],
);

/** One step of a run, with its attempts (the step timeline). */
export const stepRuns = pgTable(
  'step_runs',
  {
    tenantId: uuid('tenant_id').notNull(),
    runId: uuid('run_id').notNull(),
    stepId: text('step_id').notNull(),
    status: text('status', {
      enum: ['running', 'retrying', 'waiting', 'succeeded', 'failed', 'cancelled'],
    })
      .notNull()
      .default('running'),
    /** The attempt whose outcome this row records (1-based). */
    attempt: integer('attempt').notNull().default(0),
    /** The run generation that recorded this row (see runs.generation). */
    generation: integer('generation').notNull().default(0),
    output: jsonb('output'),
    error: jsonb('error'),
    /** Every failed attempt: [{ attempt, code, message, at }]. */
    attempts: jsonb('attempts').notNull().default([]),
    wakeAt: timestamp('wake_at', { withTimezone: true }),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // No foreign key to runs: the engine writes a step run only with its run locked, and a
    // trigger deletes a deleted run's step runs (migration 0046).
    primaryKey({ columns: [t.tenantId, t.runId, t.stepId] }),
  ],
);

/**
 * Minimal append-only audit record of engine changes; the audit work adds the hash chain.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: bigint('id', { mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    runId: uuid('run_id'),
    kind: text('kind').notNull(),
    data: jsonb('data').notNull().default({}),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  // No index by run: nothing reads audit events by run (migration 0044).
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

/** A person's task opened by a review or approval step (the governance work builds on it). */
export const reviewTasks = pgTable(
  'review_tasks',
  {
    tenantId: uuid('tenant_id').notNull(),
    id: uuid('id').notNull().defaultRandom(),
    runId: uuid('run_id').notNull(),
    stepId: text('step_id').notNull(),
    kind: text('kind', { enum: ['review', 'approval'] })
      .notNull()
      .default('review'),
    title: text('title').notNull().default(''),
    data: jsonb('data').notNull().default({}),
    labels: text('labels').array(),
    role: text('role'),
    status: text('status', { enum: ['open', 'resolved', 'expired', 'cancelled'] })
      .notNull()
      .default('open'),
    result: jsonb('result'),
    dueAt: timestamp('due_at', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.id] }),
    uniqueIndex('review_tasks_step_key').on(t.tenantId, t.runId, t.stepId),
    foreignKey({
      columns: [t.tenantId, t.runId],
      foreignColumns: [runs.tenantId, runs.id],
    }).onDelete('cascade'),
    index('review_tasks_open_idx').on(t.tenantId, t.status, t.createdAt),
  ],
);

/**
 * Worker pools alive right now (global, not tenant data): each pool beats every few seconds;
 * a sweep unlocks the jobs of pools whose beat stopped (a machine that died).
 */
export const workerHeartbeats = pgTable('worker_heartbeats', {
  poolId: text('pool_id').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
  beatAt: timestamp('beat_at', { withTimezone: true }).notNull().defaultNow(),
});
