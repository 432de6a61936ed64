import { createHash } from 'node:crypto';
import { PluginHostError } from '../errors.js';
import { open, packSealed, seal, unpackSealed } from './aes-gcm.js';

/** Which data key a wrapped key is: the AAD of the wrap binds it to one tenant and version. */
export interface DataKeyContext {
  readonly tenantId: string;
  readonly keyVersion: number;
}

export interface WrappedDataKey {
  /** The master key that wrapped it (so rotation knows what to re-wrap). */
  readonly masterKeyId: string;
  readonly wrapped: Buffer;
}

/**
 * Wraps and unwraps tenants' data keys. The local provider below keeps master keys in memory
 * from configuration; a KMS-backed provider implements the same three members.
 */
export interface KeyProvider {
  /** The master key new wraps use. */
  readonly currentKeyId: string;
  wrap(dataKey: Buffer, context: DataKeyContext): Promise<WrappedDataKey>;
  unwrap(key: WrappedDataKey, context: DataKeyContext): Promise<Buffer>;
}

export interface LocalKeyProviderOptions {
  /** ROSTER_MASTER_KEY: base64 of 32 random bytes (`openssl rand -base64 32`). */
  readonly masterKey: string;
  /**
   * Earlier master keys still able to unwrap (during a rotation). Default none. Once
   * `rewrapDataKeys` has run with the new key, they can be dropped.
   */
  readonly previousMasterKeys?: readonly string[];
}

/** `mk-` + 16 hex digits of the key's SHA-256: names a key without revealing it. */
export function masterKeyIdOf(key: Buffer): string {
  return `mk-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
}

function decodeMasterKey(value: string, which: string): Buffer {
  const key = Buffer.from(value, 'base64');
  if (key.length !== 32 || key.toString('base64') !== value.trim()) {
    throw new PluginHostError(
      'MASTER_KEY_INVALID',
      `${which} must be base64 of exactly 32 bytes; make one with \`openssl rand -base64 32\`.`,
    );
  }
  return key;
}

const wrapAad = (context: DataKeyContext) =>
  `roster-data-key/v1|${context.tenantId}|${context.keyVersion}`;

export function createLocalKeyProvider(options: LocalKeyProviderOptions): KeyProvider {
  const current = decodeMasterKey(options.masterKey, 'ROSTER_MASTER_KEY');
  const keys = new Map<string, Buffer>([[masterKeyIdOf(current), current]]);
  for (const [i, previous] of (options.previousMasterKeys ?? []).entries()) {
    const key = decodeMasterKey(previous, `previous master key #${i + 1}`);
    keys.set(masterKeyIdOf(key), key);
  }
  const currentKeyId = masterKeyIdOf(current);
  return {
    currentKeyId,
    async wrap(dataKey, context) {
      return {
        masterKeyId: currentKeyId,
        wrapped: packSealed(seal(current, dataKey, wrapAad(context))),
      };
    },
    async unwrap({ masterKeyId, wrapped }, context) {
      const key = keys.get(masterKeyId);
      if (!key) {
        throw new PluginHostError(
          'MASTER_KEY_INVALID',
          `Data key ${context.keyVersion} of tenant ${context.tenantId} is wrapped by master key ${masterKeyId}, which is not configured: add it to the previous master keys until rewrapDataKeys has run.`,
          { masterKeyId },
        );
      }
      return open(key, unpackSealed(wrapped), wrapAad(context), 'The data key');
    },
  };
}
