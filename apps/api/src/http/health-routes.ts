import { isDatabaseReady, type Pool } from '@roster/db';
import type { FastifyInstance } from 'fastify';

/**
 * /healthz: the process is alive (no dependencies checked, so a slow database never gets a
 * healthy process restarted). /readyz: it can serve, i.e. Postgres answers.
 */
export function registerHealthRoutes(app: FastifyInstance, appPool: Pool): void {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const database = await isDatabaseReady(appPool);
    reply.code(database ? 200 : 503);
    return {
      status: database ? 'ready' : 'unavailable',
      checks: { database: database ? 'ok' : 'unreachable' },
    };
  });
}
