import { randomUUID } from 'node:crypto';
import type { Pool } from '@roster/db';
import type { Logger } from '@roster/telemetry';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerHealthRoutes } from './http/health-routes.js';

export interface ApiDependencies {
  appPool: Pool;
  logger: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * The HTTP ingress. Every request gets an id (the caller's `x-request-id` when well-formed, else a
 * new one) that is echoed in the response header and carried by every log line of the request.
 */
export function createApiServer({ appPool, logger }: ApiDependencies): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: 1_048_576,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerHealthRoutes(app, appPool);
  return app;
}
