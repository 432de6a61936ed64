import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the SDK's bundle-side module. Bundlers map `@roster/plugin-sdk` to it so
 * plugin bundles contain only `defineConnector`/`defineAction` (no zod, no Node harness).
 */
export const sdkRuntimeEntry: string = fileURLToPath(new URL('./runtime.ts', import.meta.url));
