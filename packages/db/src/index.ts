export {
  type AuditSessionContext,
  auditSettingsSql,
  withAuditContext,
} from './audit-context.js';
export { APP_ROLE, appUrlFor, redactUrl, withDatabase } from './connection-urls.js';
export {
  type EmbeddedPostgresOptions,
  type RunningPostgres,
  startEmbeddedPostgres,
} from './embedded-postgres.js';
export { DbError, type DbErrorCode } from './errors.js';
export { MIGRATIONS_DIR, type MigrateOptions, migrate } from './migrate.js';
export { type OpenDatabase, openDatabase } from './open-database.js';
export {
  createPool,
  isDatabaseReady,
  type Pool,
  type PoolClient,
  type PoolOptions,
} from './pools.js';
export * as schema from './schema/index.js';
export { type Database, type TenantTransaction, withTenant } from './with-tenant.js';
