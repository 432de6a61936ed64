import type { SubjectName } from '@roster/authz';
import type { TestApi } from '../api-harness.js';

/** Ids of objects made fresh (by the tenant's owner) for each call of the permission matrix. */
export type Fixture = Record<string, string>;

export interface OperationCall {
  query: string;
  variables?: (f: Fixture) => Record<string, unknown>;
  /** The row the service checks conditions on, when the operation acts on an existing one. */
  record?: { subject: SubjectName; row: Record<string, unknown> };
  /** What the operation checks when it is not its declared requirement (node: the object's type). */
  checks?: { action: 'read'; subject: SubjectName };
  /** Error codes that still mean "allowed" (the caller passed authorization; the state said no). */
  allowedErrors?: string[];
  /**
   * For mutations: the audit event it writes (apps/api/src/audit-coverage.db.test.ts calls every
   * mutation as the owner and fails without one). `actor: 'newMember'` when the event is by the
   * person the mutation signs up or lets in, not the caller. `prepare` puts the fixture in the
   * state the mutation needs to change something (e.g. a failed run for retryRun).
   */
  audit?: {
    action: string;
    actor?: 'caller' | 'newMember';
    prepare?: (api: TestApi, fixture: Fixture) => Promise<void>;
  };
}

export interface MatrixOwner {
  token: string;
  userId: string;
  tenantId: string;
}

/**
 * One domain's operations for the permission matrix (apps/api/src/permissions.db.test.ts). Each
 * file in this folder default-exports one; an operation of the schema without a call fails the matrix.
 */
export interface DomainCalls {
  /** Makes the objects this domain's calls act on; merged into the fixture of every call. */
  fixture?: (api: TestApi, owner: MatrixOwner) => Promise<Fixture>;
  calls: Record<string, OperationCall>;
}
