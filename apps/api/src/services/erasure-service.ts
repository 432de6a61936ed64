import { recordAudit } from '@roster/audit';
import { type Pool, withTenant } from '@roster/db';
import { type ErasureCertificate, eraseSubjectData, GovernanceError } from '@roster/governance';
import type { KeyProvider } from '@roster/plugin-host';
import { ApiError } from '../errors.js';
import type { ServiceActor } from './service-actor.js';

/** Without a master key there are no subject keys to destroy: say how to configure one. */
export function requireKeyProvider(keyProvider: KeyProvider | undefined): KeyProvider {
  if (keyProvider) return keyProvider;
  throw new ApiError(
    'INTERNAL',
    'Erasure needs the master key that wraps subject keys: configure ROSTER_MASTER_KEY for the API.',
  );
}

/**
 * Erases a data subject (GDPR Art. 17) by crypto-shredding: destroys the subject's key, purges
 * plaintext copies, writes the erasure certificate and ONE audit event naming the subject id only
 * (the address never reaches the audit trail), all in one transaction. Idempotent: a repeat
 * certifies again with keysDestroyed 0.
 */
export async function eraseDataSubject(
  appPool: Pool,
  actor: ServiceActor,
  keyProvider: KeyProvider | undefined,
  input: { email: string },
): Promise<ErasureCertificate> {
  const provider = requireKeyProvider(keyProvider);
  return withTenant(appPool, actor.tenantId, async ({ client }) => {
    let certificate: ErasureCertificate;
    try {
      certificate = await eraseSubjectData(client, provider, actor.tenantId, {
        email: input.email,
        requestedBy: `${actor.audit.actor.type}:${actor.audit.actor.id}`,
      });
    } catch (err) {
      if (err instanceof GovernanceError && err.code === 'ERASURE_INPUT_INVALID') {
        throw new ApiError('BAD_USER_INPUT', err.message, { field: 'input.email' }, { cause: err });
      }
      throw err;
    }
    await recordAudit(client, actor.tenantId, actor.audit, {
      action: 'dataSubject.erased',
      subject: { type: 'DataSubject', id: certificate.subjectId },
      data: {
        certificateId: certificate.certificateId,
        keysDestroyed: certificate.keysDestroyed,
        purged: certificate.purged,
        alreadyErased: certificate.alreadyErased,
      },
    });
    return certificate;
  });
}
