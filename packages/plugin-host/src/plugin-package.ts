import { createHash, createPrivateKey, sign } from 'node:crypto';
import type { PluginManifest } from '@roster/plugin-sdk';
import type { PluginBundle } from './bundle.js';
import { canonicalJson } from './canonical-json.js';
import type { PublisherPrivateKey } from './publisher-key.js';

/**
 * A plugin as it travels (one JSON file): code and manifest, their sha-512 integrity, and the
 * publisher's ed25519 signature over that integrity. The host runs nothing from it before
 * `verifyPackage` has checked both.
 */
export interface PluginPackage {
  readonly format: 'roster-plugin';
  readonly formatVersion: 1;
  readonly manifest: PluginManifest;
  readonly code: string;
  /** Subresource-Integrity style: `sha512-` + base64 of SHA-512 over canonical `{code, manifest}`. */
  readonly integrity: string;
  readonly signature: PackageSignature;
}

export interface PackageSignature {
  readonly algorithm: 'ed25519';
  readonly publisher: string;
  readonly keyId: string;
  /** base64 of the ed25519 signature over `signedMessage(publisher, integrity)`. */
  readonly value: string;
}

export function packageIntegrity(manifest: PluginManifest, code: string): string {
  const digest = createHash('sha512').update(canonicalJson({ code, manifest })).digest('base64');
  return `sha512-${digest}`;
}

/** Domain-separated and naming the publisher, so a signature cannot be replayed as another's. */
export function signedMessage(publisher: string, integrity: string): Buffer {
  return Buffer.from(`roster-plugin/v1\n${publisher}\n${integrity}`, 'utf8');
}

/** Packs a bundle: integrity over code and manifest, signed with the publisher's key. */
export function packPlugin(bundle: PluginBundle, key: PublisherPrivateKey): PluginPackage {
  const integrity = packageIntegrity(bundle.manifest, bundle.code);
  const privateKey = createPrivateKey({
    key: Buffer.from(key.privateKey, 'base64'),
    format: 'der',
    type: 'pkcs8',
  });
  const value = sign(null, signedMessage(key.publisher, integrity), privateKey).toString('base64');
  return {
    format: 'roster-plugin',
    formatVersion: 1,
    manifest: bundle.manifest,
    code: bundle.code,
    integrity,
    signature: { algorithm: 'ed25519', publisher: key.publisher, keyId: key.keyId, value },
  };
}
