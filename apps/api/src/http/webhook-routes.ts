import type { Pool } from '@roster/db';
import { EngineError, type EngineOptions, receiveWebhook } from '@roster/engine';
import type { FastifyInstance } from 'fastify';

/** Largest webhook body: 256 KiB, the size limit of a run's input (413 beyond). */
export const WEBHOOK_BODY_LIMIT_BYTES = 256 * 1024;

const STATUS: Partial<Record<string, number>> = {
  NOT_FOUND: 404,
  SIGNATURE_INVALID: 401,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
};

/**
 * POST /hooks/:tenant/:trigger: a Standard Webhooks message starts a run of the trigger's
 * workflow with the JSON body as input. 202 {runId} for a new message, 200 {runId} for a
 * redelivered `webhook-id` (nothing new starts), 401 for a signature or timestamp that does not
 * verify, 404 for a trigger that is not in that tenant (the same answer as a missing one), 413
 * for a body over 256 KiB. The body is kept raw: the signature covers its exact bytes. `engine`
 * seals personal data in the run's input (see sealingOptions; default: stored as given) and
 * carries the tenant's limit of running runs.
 */
export async function registerWebhookRoutes(
  app: FastifyInstance,
  appPool: Pool,
  engine: EngineOptions = {},
): Promise<void> {
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT_BYTES },
      (_request, body, done) => done(null, body),
    );
    scope.post<{ Params: { tenant: string; trigger: string } }>(
      '/hooks/:tenant/:trigger',
      { bodyLimit: WEBHOOK_BODY_LIMIT_BYTES },
      async (request, reply) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        try {
          const { runId, created } = await receiveWebhook(
            appPool,
            {
              tenantId: request.params.tenant.toLowerCase(),
              triggerId: request.params.trigger.toLowerCase(),
              headers: request.headers,
              body,
            },
            engine,
          );
          reply.code(created ? 202 : 200);
          return { runId: Buffer.from(`Run:${runId}`).toString('base64url') };
        } catch (err) {
          const status = err instanceof EngineError ? STATUS[err.code] : undefined;
          if (status === undefined) throw err;
          reply.code(status);
          return { error: { code: (err as EngineError).code, message: (err as Error).message } };
        }
      },
    );
  });
}
