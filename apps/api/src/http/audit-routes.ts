import { Readable } from 'node:stream';
import { AUDIT_EXPORT_CONTENT_TYPES } from '@roster/audit';
import type { Policy } from '@roster/authz';
import type { Pool } from '@roster/db';
import type { FastifyInstance } from 'fastify';
import { authenticate } from '../auth/authenticate.js';
import { parseGlobalId } from '../graphql/global-id.js';
import { auditContextOf } from '../services/audit-actor.js';
import { downloadAuditExport } from '../services/audit-export-service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Bytes per chunk written to the socket. */
const CHUNK = 64 * 1024;

function problem(code: string, message: string) {
  return { error: { code, message } };
}

/**
 * GET /audit/exports/:id — the file of a READY audit export (requestAuditExport), streamed, for a
 * caller whose ability reads AuditExport (roles.yaml: owner, admin, compliance; API keys with
 * audit:read or audit:export). Another tenant's export is 404, exactly like a missing one.
 */
export function registerAuditRoutes(app: FastifyInstance, appPool: Pool, policy: Policy): void {
  app.get<{ Params: { id: string } }>('/audit/exports/:id', async (request, reply) => {
    const result = await authenticate(appPool, policy, request.headers.authorization);
    if (result.ok !== true) {
      return reply
        .code(401)
        .send(
          problem(
            'UNAUTHENTICATED',
            result.ok === false
              ? result.reason
              : 'Send `Authorization: Bearer <session token or API key>`.',
          ),
        );
    }
    const { auth } = result;
    if (!auth.ability.can('read', 'AuditExport')) {
      return reply
        .code(403)
        .send(
          problem(
            'FORBIDDEN',
            'Downloading audit exports needs a role that reads them (compliance, admin, owner) or an API key with audit:read.',
          ),
        );
    }
    const parsed = parseGlobalId(request.params.id);
    const exportId =
      parsed && parsed.type === 'AuditExport' && UUID.test(parsed.key) ? parsed.key : null;
    const file =
      exportId === null
        ? undefined
        : await downloadAuditExport(
            appPool,
            {
              tenantId: auth.actor.tenantId,
              userId: auth.userId,
              ability: auth.ability,
              audit: auditContextOf({ requestId: request.id, traceId: request.id }, auth),
            },
            exportId.toLowerCase(),
          );
    if (!file) {
      return reply
        .code(404)
        .send(
          problem(
            'NOT_FOUND',
            'No ready audit export has that id; check its status with the auditExport query.',
          ),
        );
    }
    const name = `audit-${file.from.toISOString().slice(0, 10)}-${file.to.toISOString().slice(0, 10)}.${file.format}`;
    const content = file.content;
    reply
      .header('content-type', AUDIT_EXPORT_CONTENT_TYPES[file.format])
      .header('content-disposition', `attachment; filename="${name}"`)
      .header('content-length', content.length)
      .header('cache-control', 'no-store');
    return reply.send(
      Readable.from(
        (function* () {
          for (let at = 0; at < content.length; at += CHUNK) yield content.subarray(at, at + CHUNK);
        })(),
      ),
    );
  });
}
