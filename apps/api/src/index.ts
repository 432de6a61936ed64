export { type ApiLimits, DEFAULT_LIMITS, type MarketplaceOptions } from './graphql/context.js';
export { printApiSchema } from './graphql/schema.js';
export {
  apiKeySecretMatches,
  type GeneratedApiKey,
  generateApiKey,
  hashApiKeySecret,
  hashPassword,
  parseApiKey,
  verifyPassword,
} from './identity/credentials.js';
export {
  DEMO_ADMIN_EMAIL,
  DEMO_TENANT_SLUG,
  type SeedResult,
  seedDemoTenant,
} from './identity/seed-demo.js';
export { type ApiDependencies, BODY_LIMIT_BYTES, createApiServer, ROLES_FILE } from './server.js';
