// Test support: the real path from a plugin entry to a VerifiedPlugin (bundle, pack with a
// throwaway publisher key, verify), so host tests run only what a host would accept.
import type { PluginManifest } from '@roster/plugin-sdk';
import { bundlePlugin } from '../src/bundle.js';
import { packPlugin } from '../src/plugin-package.js';
import { generatePublisherKey, publicKeyOf } from '../src/publisher-key.js';
import type { VerifiedPlugin } from '../src/verified-plugin.js';
import { verifyPackage } from '../src/verify-package.js';

export const testPublisher = generatePublisherKey('roster-test');

export function verifiedFromCode(code: string, manifest: PluginManifest): VerifiedPlugin {
  return verifyPackage(packPlugin({ code, manifest }, testPublisher), [publicKeyOf(testPublisher)]);
}

export async function verifiedBundle(entryFile: string): Promise<VerifiedPlugin> {
  const { code, manifest } = await bundlePlugin(entryFile);
  return verifiedFromCode(code, manifest);
}
