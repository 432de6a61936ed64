import { createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { CAPABILITY_NAMES, type PluginManifest } from '@roster/plugin-sdk';
import { PluginHostError } from './errors.js';
import { type PluginPackage, packageIntegrity, signedMessage } from './plugin-package.js';
import type { PublisherPublicKey } from './publisher-key.js';
import { ISSUER, VerifiedPlugin } from './verified-plugin.js';

function malformed(message: string): never {
  throw new PluginHostError(
    'PACKAGE_MALFORMED',
    `${message} Re-pack the plugin with \`roster plugin pack\`.`,
  );
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Structure only: enough that the sandbox and validator can rely on the manifest's shape. */
export function checkManifestShape(manifest: unknown): asserts manifest is PluginManifest {
  if (!isObject(manifest) || manifest.manifestVersion !== 1) {
    malformed('The manifest is missing or not manifestVersion 1.');
  }
  for (const field of ['id', 'name', 'version', 'description'] as const) {
    if (typeof manifest[field] !== 'string') malformed(`manifest.${field} must be a string.`);
  }
  if (!isObject(manifest.capabilities)) malformed('manifest.capabilities must be an object.');
  for (const name of Object.keys(manifest.capabilities)) {
    if (!CAPABILITY_NAMES.includes(name as never)) malformed(`Unknown capability "${name}".`);
  }
  const http = manifest.capabilities.http;
  if (http !== undefined && (!isObject(http) || !Array.isArray(http.hosts))) {
    malformed('manifest.capabilities.http.hosts must be a list.');
  }
  if (manifest.connection !== null && !isObject(manifest.connection)) {
    malformed('manifest.connection must be an object or null.');
  }
  if (!isObject(manifest.actions) || Object.keys(manifest.actions).length === 0) {
    malformed('manifest.actions must name at least one action.');
  }
  for (const [id, action] of Object.entries(manifest.actions)) {
    if (
      !isObject(action) ||
      !isObject(action.input) ||
      !isObject(action.output) ||
      !Array.isArray(action.uses)
    ) {
      malformed(`Action "${id}" needs input and output schemas and a uses list.`);
    }
  }
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The gate in front of the sandbox: checks the package's shape, that code and manifest hash to
 * its integrity, that its publisher and key id are trusted, and that the signature verifies.
 * Throws PluginHostError (PACKAGE_MALFORMED, INTEGRITY_MISMATCH, UNKNOWN_PUBLISHER,
 * SIGNATURE_INVALID); nothing from the package is evaluated on the way.
 */
export function verifyPackage(
  pkg: unknown,
  trustedPublisherKeys: readonly PublisherPublicKey[],
): VerifiedPlugin {
  if (!isObject(pkg) || pkg.format !== 'roster-plugin' || pkg.formatVersion !== 1) {
    malformed('This is not a Roster plugin package (format "roster-plugin", formatVersion 1).');
  }
  const { manifest, code, integrity, signature } = pkg as Partial<PluginPackage>;
  if (typeof code !== 'string' || typeof integrity !== 'string' || !isObject(signature)) {
    malformed('The package needs code, integrity and signature.');
  }
  checkManifestShape(manifest);
  const { publisher, keyId, value, algorithm } = signature;
  if (
    algorithm !== 'ed25519' ||
    typeof publisher !== 'string' ||
    typeof keyId !== 'string' ||
    typeof value !== 'string'
  ) {
    malformed('The signature needs algorithm "ed25519", publisher, keyId and value.');
  }

  const actual = packageIntegrity(manifest, code);
  if (!sameText(actual, integrity)) {
    throw new PluginHostError(
      'INTEGRITY_MISMATCH',
      `Plugin ${manifest.id}@${manifest.version}: code or manifest does not match the package integrity; it was altered after packing. Get the package again from its publisher.`,
      { expected: integrity, actual },
    );
  }

  const key = trustedPublisherKeys.find((k) => k.publisher === publisher && k.keyId === keyId);
  if (!key) {
    throw new PluginHostError(
      'UNKNOWN_PUBLISHER',
      `Plugin ${manifest.id}@${manifest.version} is signed by ${publisher} (${keyId}), which this host does not trust: add that publisher's public key to the trusted keys, or install a package from a trusted publisher.`,
      { publisher, keyId },
    );
  }

  let valid = false;
  try {
    const publicKey = createPublicKey({
      key: Buffer.from(key.publicKey, 'base64'),
      format: 'der',
      type: 'spki',
    });
    valid = verify(
      null,
      signedMessage(publisher, integrity),
      publicKey,
      Buffer.from(value, 'base64'),
    );
  } catch {
    valid = false;
  }
  if (!valid) {
    throw new PluginHostError(
      'SIGNATURE_INVALID',
      `Plugin ${manifest.id}@${manifest.version}: the signature does not verify with ${publisher}'s key ${keyId}. Do not install it; ask the publisher to re-sign.`,
      { publisher, keyId },
    );
  }
  return new VerifiedPlugin(ISSUER, { manifest, code, integrity, publisher, keyId });
}

/**
 * Re-issues a plugin that a parent process verified and sent over IPC (where the class is
 * lost), re-checking its integrity so a garbled or swapped message cannot run.
 */
export function reissueVerified(data: unknown): VerifiedPlugin {
  if (!isObject(data)) malformed('The invocation carries no plugin.');
  const { manifest, code, integrity, publisher, keyId } = data;
  if (
    typeof code !== 'string' ||
    typeof integrity !== 'string' ||
    typeof publisher !== 'string' ||
    typeof keyId !== 'string'
  ) {
    malformed('The invocation plugin needs code, integrity, publisher and keyId.');
  }
  checkManifestShape(manifest);
  if (!sameText(packageIntegrity(manifest, code), integrity)) {
    throw new PluginHostError(
      'INTEGRITY_MISMATCH',
      'The plugin sent to the sandbox worker does not match its verified integrity.',
    );
  }
  return new VerifiedPlugin(ISSUER, { manifest, code, integrity, publisher, keyId });
}
