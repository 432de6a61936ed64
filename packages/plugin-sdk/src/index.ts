export {
  CAPABILITY_NAMES,
  type CapabilityDeclarations,
  type CapabilityName,
  declaredCapabilityNames,
  type HttpCapabilityDeclaration,
  type KvCapabilityDeclaration,
  type SmtpCapabilityDeclaration,
  type SqlCapabilityDeclaration,
} from './capabilities.js';
export { checkConnector, defineConnector } from './connector-check.js';
export type {
  AbortSignalLike,
  ActionContext,
  BaseActionContext,
  ConnectionSecrets,
  HttpClient,
  HttpRequestInit,
  HttpResponse,
  KvStore,
  Logger,
  LogLevel,
  SmtpClient,
  SmtpMessage,
  SqlClient,
  SqlParam,
} from './context.js';
export {
  type ActionDefinition,
  type ConnectionDefinition,
  type Connector,
  type ConnectorDefinition,
  defineAction,
} from './define.js';
export { type PluginErrorCode, PluginSdkError } from './errors.js';
export {
  type HarnessLogEntry,
  type HarnessRequest,
  hostsFromConnection,
  memoryKv,
  type RunActionOptions,
  type RunActionResult,
  runAction,
} from './harness.js';
export {
  type ActionManifest,
  type JsonSchema,
  type PluginManifest,
  toManifest,
} from './manifest.js';
export { sdkNodeEntry, sdkRuntimeEntry } from './runtime-entry.js';
