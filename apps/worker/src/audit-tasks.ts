import { AUDIT_EXPORT_TASK, AUDIT_SEAL_CRONTAB, AUDIT_SEAL_TASK } from '@roster/audit';
import type { Pool } from '@roster/db';
import type { GovernancePolicy } from '@roster/governance';
import type { TaskList } from 'graphile-worker';
import { rosterAuditExport } from './tasks/roster_audit_export.js';
import { rosterAuditSeal } from './tasks/roster_audit_seal.js';

/** The audit signer a worker pool runs: only a pool given the signing key gets these tasks. */
export interface AuditTaskOptions {
  /** The ed25519 private key (PKCS#8 PEM) that signs digests and export headers. */
  readonly signingKey: string;
  /** The governance defaults (policies/governance.yaml) under the tenants' overrides. */
  readonly governanceDefaults?: GovernancePolicy;
}

/** The hourly seal's crontab line (none without the signing key). */
export function auditCrontab(options: AuditTaskOptions | undefined): string[] {
  return options ? [AUDIT_SEAL_CRONTAB] : [];
}

export function auditTasks(pool: Pool, options: AuditTaskOptions | undefined): TaskList {
  if (!options) return {};
  return {
    [AUDIT_SEAL_TASK]: rosterAuditSeal(pool, options.signingKey),
    [AUDIT_EXPORT_TASK]: rosterAuditExport(pool, options.signingKey, options.governanceDefaults),
  };
}
