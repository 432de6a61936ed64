// The part of the SDK that plugin bundles contain. The host's bundler maps
// `@roster/plugin-sdk` to this file so bundles carry neither zod nor the Node harness.
export type { CapabilityDeclarations, CapabilityName } from './capabilities.js';
export type * from './context.js';
export {
  type ActionDefinition,
  type ConnectionDefinition,
  type Connector,
  type ConnectorDefinition,
  defineAction,
  defineConnector,
} from './define.js';
export { PluginSdkError } from './errors.js';
