export { runPluginsBench } from './bench-plugins.js';
export { type BundleOptions, bundlePlugin, type PluginBundle } from './bundle.js';
export {
  type ConformanceOptions,
  type ConformanceReport,
  type ConformanceResult,
  checkConformance,
} from './conformance.js';
export {
  type ConnectorCall,
  type ConnectorExecutorOptions,
  createConnectorExecutor,
  type LoadedInstallation,
  loadInstallation,
  type PluginInvoker,
} from './connector-executor.js';
export {
  type AddressVerdict,
  createEgressPolicy,
  type EgressPolicy,
  type EgressPolicyOptions,
} from './egress-policy.js';
export {
  isPluginHostError,
  PluginHostError,
  type PluginHostErrorCode,
  type SerializedPluginHostError,
} from './errors.js';
export {
  createHostDispatch,
  type HostCallInfo,
  type HostCapabilities,
  type HostDispatch,
  type InvocationGrant,
  type KvCapability,
  type SmtpCapability,
  type SqlCapability,
} from './host-bridge.js';
export {
  type ConnectGuard,
  createHttpEgress,
  type HostHttpRequest,
  type HostHttpResponse,
  type HttpEgress,
  type HttpEgressOptions,
  type Resolver,
} from './http-egress.js';
export {
  createPostgresKv,
  DEFAULT_KV_LIMITS,
  type KvLimits,
  type PostgresKvOptions,
} from './kv-store.js';
export {
  type PackageSignature,
  type PluginPackage,
  packageIntegrity,
  packPlugin,
} from './plugin-package.js';
export {
  createPluginPool,
  type PluginPool,
  type PluginPoolOptions,
  type PluginPoolStats,
} from './pool.js';
export {
  generatePublisherKey,
  type PublisherPrivateKey,
  type PublisherPublicKey,
  parsePublisherKey,
  publicKeyOf,
  publisherKeyFromSpki,
} from './publisher-key.js';
export {
  type ConnectionResilience,
  type ConnectionResilienceOptions,
  createConnectionResilience,
} from './resilience.js';
export {
  createSandbox,
  type InvocationLog,
  type InvokeRequest,
  type InvokeResult,
  type Sandbox,
  type SandboxLimits,
  type SandboxOptions,
} from './sandbox.js';
// AES-256-GCM with AAD, for other packages' envelope encryption (governance's crypto-shredding).
export {
  open as openAesGcm,
  packSealed,
  type Sealed,
  seal as sealAesGcm,
  unpackSealed,
} from './secrets/aes-gcm.js';
export {
  checkSecrets,
  currentDataKey,
  type InTenant,
  openConnectionSecrets,
  type RewrapReport,
  rewrapDataKeys,
  rotateTenantDataKey,
  type SealedConnection,
  type SqlClient,
  sealConnectionSecrets,
} from './secrets/connection-vault.js';
export {
  createLocalKeyProvider,
  type DataKeyContext,
  type KeyProvider,
  type LocalKeyProviderOptions,
  masterKeyIdOf,
  type WrappedDataKey,
} from './secrets/key-provider.js';
export { loadOrCreateLocalMasterKey } from './secrets/local-master-key.js';
export { redactSecrets } from './secrets/redact.js';
export {
  createSmtpCapability,
  type SmtpCapabilityOptions,
  type SmtpServer,
} from './smtp-capability.js';
export { createSqlCapability, type SqlCapabilityOptions } from './sql-capability.js';
export { VerifiedPlugin } from './verified-plugin.js';
export { verifyPackage } from './verify-package.js';
