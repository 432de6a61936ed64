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
export { type ApiDependencies, createApiServer } from './server.js';
