import type { PluginManifest } from '@roster/plugin-sdk';

/** Only modules of this package hold this token, so only they can issue VerifiedPlugins. */
export const ISSUER: unique symbol = Symbol('roster.verified-plugin');

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}

/**
 * Code and manifest that passed `verifyPackage`. The sandbox and the pool accept nothing else:
 * the private field makes the type nominal (an object literal or a spread copy does not
 * type-check) and `VerifiedPlugin.is` checks it at run time for callers without types.
 */
export class VerifiedPlugin {
  readonly #verified = true;
  readonly manifest: PluginManifest;
  readonly code: string;
  readonly integrity: string;
  readonly publisher: string;
  readonly keyId: string;

  constructor(
    issuer: typeof ISSUER,
    fields: {
      manifest: PluginManifest;
      code: string;
      integrity: string;
      publisher: string;
      keyId: string;
    },
  ) {
    if (issuer !== ISSUER) throw new TypeError('VerifiedPlugin is issued by verifyPackage only.');
    this.manifest = deepFreeze(structuredClone(fields.manifest));
    this.code = fields.code;
    this.integrity = fields.integrity;
    this.publisher = fields.publisher;
    this.keyId = fields.keyId;
    Object.freeze(this);
  }

  static is(value: unknown): value is VerifiedPlugin {
    return typeof value === 'object' && value !== null && #verified in value;
  }
}
