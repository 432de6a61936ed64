export { createTenant, createUser, type TestTenant, type TestUser } from './fixtures.js';
export type { TestPostgres } from './global-setup.js';
export {
  checkRlsBehaviour,
  checkRlsCatalog,
  type IsolationFinding,
  listTenantTables,
  type TenantTable,
} from './tenant-isolation.js';
export { createTestDatabase, type TestDatabase } from './test-database.js';
