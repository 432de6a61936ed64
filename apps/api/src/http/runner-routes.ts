import type { Pool } from '@roster/db';
import {
  claimRequestSchema,
  completeRequestSchema,
  createRunnerService,
  heartbeatRequestSchema,
  InferenceError,
  type PoolIdentity,
  type ProtocolErrorBody,
  type RunnerService,
  registerRequestSchema,
  runnerPaths,
} from '@roster/inference';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

// /runner/v1: the runner protocol (packages/inference runner-protocol.ts). Every call carries the
// pool token as a bearer token; the token alone decides tenant and pool (auth_runner_pool).

const SHA256 = /^[0-9a-f]{64}$/;

interface Parser<T> {
  safeParse(
    v: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: Array<{ message: string; path: PropertyKey[] }> } };
}

function fail(
  reply: FastifyReply,
  status: number,
  code: string,
  message: string,
): ProtocolErrorBody {
  reply.code(status);
  return { error: { code, message } };
}

export function registerRunnerRoutes(
  app: FastifyInstance,
  appPool: Pool,
  service: RunnerService = createRunnerService(appPool, {
    onError: (err, context) =>
      app.log.warn({ err, ...context }, 'decision could not resume its run'),
  }),
): void {
  async function identify(request: FastifyRequest): Promise<PoolIdentity> {
    const header = request.headers.authorization;
    const token =
      typeof header === 'string' && header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (!token || token.length > 200) {
      throw new InferenceError(
        'UNAUTHORIZED',
        'Send the pool token as `Authorization: Bearer <token>`.',
      );
    }
    return service.authenticate(token);
  }

  function route<T>(
    path: string,
    schema: Parser<T>,
    handler: (who: PoolIdentity, body: T) => Promise<unknown>,
  ): void {
    app.post(path, async (request, reply) => {
      try {
        const who = await identify(request);
        const parsed = schema.safeParse(request.body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          return fail(
            reply,
            400,
            'BAD_REQUEST',
            `${issue?.path.join('.') || 'body'}: ${issue?.message}`,
          );
        }
        return await handler(who, parsed.data);
      } catch (error) {
        return errorReply(reply, error, request);
      }
    });
  }

  function errorReply(reply: FastifyReply, error: unknown, request: FastifyRequest) {
    if (error instanceof InferenceError) {
      if (error.code === 'UNAUTHORIZED') return fail(reply, 401, error.code, error.message);
      if (error.code === 'NOT_FOUND') return fail(reply, 404, error.code, error.message);
    }
    request.log.error({ err: error }, 'runner protocol call failed');
    return fail(reply, 500, 'INTERNAL', `Internal error; quote request id ${request.id}.`);
  }

  route(runnerPaths.register, registerRequestSchema, (who, body) => service.register(who, body));
  route(runnerPaths.heartbeat, heartbeatRequestSchema, (who, body) => service.heartbeat(who, body));
  route(runnerPaths.claim, claimRequestSchema, (who, body) => service.claim(who, body));
  route(runnerPaths.complete, completeRequestSchema, (who, body) => service.complete(who, body));

  app.get<{ Params: { sha256: string } }>('/runner/v1/models/:sha256', async (request, reply) => {
    try {
      const who = await identify(request);
      const bytes = SHA256.test(request.params.sha256)
        ? await service.model(who, request.params.sha256)
        : undefined;
      if (!bytes)
        return fail(
          reply,
          404,
          'NOT_FOUND',
          "No model file with this sha-256 in the pool's tenant.",
        );
      reply.header('content-type', 'application/octet-stream');
      return reply.send(bytes);
    } catch (error) {
      return errorReply(reply, error, request);
    }
  });

  app.get<{ Params: { sha256: string } }>(
    '/runner/v1/models/:sha256/manifest',
    async (request, reply) => {
      try {
        const who = await identify(request);
        const manifest = SHA256.test(request.params.sha256)
          ? await service.manifest(who, request.params.sha256)
          : undefined;
        if (!manifest)
          return fail(reply, 404, 'NOT_FOUND', "No model with this sha-256 in the pool's tenant.");
        return manifest;
      } catch (error) {
        return errorReply(reply, error, request);
      }
    },
  );
}
