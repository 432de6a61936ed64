import { fileURLToPath } from 'node:url';

// Works from TypeScript sources and from compiled output alike.
const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';

/**
 * Absolute path of the SDK's bundle-side module. Bundlers map `@roster/plugin-sdk` to it so
 * plugin bundles contain only `defineConnector`/`defineAction` (no zod, no Node harness).
 */
export const sdkRuntimeEntry: string = fileURLToPath(new URL(`./runtime.${ext}`, import.meta.url));

/** Absolute path of the SDK's full entry (pack-time tools in Node). */
export const sdkNodeEntry: string = fileURLToPath(new URL(`./index.${ext}`, import.meta.url));
