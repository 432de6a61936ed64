import path from 'node:path';
import { createApiServer, DEMO_TENANT_SLUG, seedDemoTenant } from '@roster/api';
import type { Config } from '@roster/config';
import { createPool, openDatabase } from '@roster/db';
import { installWorkerSchema } from '@roster/engine';
import { createPersonalDataVault } from '@roster/governance';
import { seedDemoInference, startDemoRunner } from '@roster/gpu-runners';
import {
  createEgressPolicy,
  createHttpEgress,
  createLocalKeyProvider,
  createPluginPool,
  loadOrCreateLocalMasterKey,
} from '@roster/plugin-host';
import { createLogger } from '@roster/telemetry';
import { ROSTER_EXECUTORS_MODULE, startInboundEmail, startWorkers } from '@roster/worker';
import { Shutdown } from '../shutdown.js';
import { loadOrCreateAuditSigningKey } from './audit/signing-key.js';
import { loadOrCreateDemoRunnerToken } from './demo-runner-token.js';

export interface UpOptions {
  say: (line: string) => void;
  exit: (code: number) => void;
  /** Worker processes for the workflow queue. Default 1; 0 runs none (API only). */
  workers?: number;
}

/** `roster up`: the whole stack on one machine (embedded Postgres unless DATABASE_URL). */
export async function up(config: Config, { say, exit, workers = 1 }: UpOptions): Promise<void> {
  const shutdown = new Shutdown(say);
  const logger = createLogger({ level: config.LOG_LEVEL, name: 'roster' });
  shutdown.onSignals(exit);
  try {
    say(
      config.DATABASE_URL
        ? '• Using the Postgres in DATABASE_URL; migrating…'
        : `• Starting the embedded Postgres (data in ${path.resolve(config.ROSTER_HOME, 'pg')}) and migrating…`,
    );
    const database = await openDatabase(config, undefined, { afterMigrate: installWorkerSchema });
    shutdown.add('Postgres', () => database.stop());
    say(
      `✓ Postgres ready${database.embedded ? ` on 127.0.0.1:${config.ROSTER_PG_PORT}` : ''}, migrations applied`,
    );

    const ownerPool = createPool(database.ownerUrl, { max: 2, applicationName: 'roster-up' });
    shutdown.add('owner pool', () => ownerPool.end());
    if (config.ROSTER_SEED_DEMO) {
      const seed = await seedDemoTenant(ownerPool);
      if (seed.seeded) {
        say('✓ Seeded the demo tenant. These credentials are shown once; keep them:');
        say(`    sign-in:  ${seed.email}`);
        say(`    password: ${seed.password}`);
        say(`    API key:  ${seed.apiKey}`);
      } else {
        say('✓ Demo tenant already present (credentials were shown on the first start)');
      }
    }

    // Audit digests: the workers' graphile-worker crontab signs them hourly (roster_audit_seal,
    // once across all workers) and produces requested audit exports with the same key.
    const auditKey = await loadOrCreateAuditSigningKey(config);
    if (workers > 0) {
      const pool = startWorkers({
        count: workers,
        appUrl: database.appUrl,
        executorModule: ROSTER_EXECUTORS_MODULE,
        callbacks: { allow: config.ROSTER_EGRESS_ALLOW },
        maxRunsPerTenant: config.ROSTER_MAX_RUNS_PER_TENANT,
        stopGraceMs: config.ROSTER_WORKER_STOP_GRACE_MS,
        audit: { signingKey: auditKey.privateKeyPem },
        log: (line) => logger.info(line),
      });
      shutdown.add(`${workers} worker process(es)`, () => pool.stop());
      await pool.ready;
      say(
        `✓ ${workers} worker process(es) running the workflow queue (at most ${config.ROSTER_MAX_RUNS_PER_TENANT} running runs per tenant)`,
      );
    }

    const appPool = createPool(database.appUrl, { max: 20, applicationName: 'roster-api' });
    shutdown.add('API pool', () => appPool.end());
    if (workers > 0) {
      say(
        `✓ Audit digests signed hourly by the workers with key ${auditKey.keyId.slice(0, 16)}… (${auditKey.source})`,
      );
    } else {
      say('! No workers: audit digests are signed only by exports until a worker runs');
    }
    // The marketplace: tenants' connection secrets are wrapped by the master key (generated once
    // under ROSTER_HOME when ROSTER_MASTER_KEY is unset); `testConnection` runs in a sandbox pool.
    const masterKey =
      config.ROSTER_MASTER_KEY ?? (await loadOrCreateLocalMasterKey(config.ROSTER_HOME));
    const plugins = createPluginPool({
      capabilities: {
        http: createHttpEgress({
          policy: createEgressPolicy({ allow: config.ROSTER_PLUGIN_EGRESS_ALLOW }),
        }),
      },
    });
    shutdown.add('plugin sandboxes', () => plugins.close());
    const keyProvider = createLocalKeyProvider({
      masterKey,
      previousMasterKeys: config.ROSTER_MASTER_KEYS_PREVIOUS,
    });
    // Personal data (e-mail addresses) in run inputs is sealed per data subject, so that
    // eraseDataSubject can crypto-shred it (docs/decisions, crypto-shredding).
    const vault = createPersonalDataVault(keyProvider);
    const api = await createApiServer({
      appPool,
      logger,
      production: config.NODE_ENV === 'production',
      inboundEmailDomain: config.ROSTER_INBOUND_EMAIL_DOMAIN,
      limits: { maxRunsPerTenant: config.ROSTER_MAX_RUNS_PER_TENANT },
      marketplace: {
        keyProvider,
        platformAdmins: config.ROSTER_PLATFORM_ADMINS,
        invoker: plugins,
      },
    });
    shutdown.add('API', () => api.close());
    if (config.ROSTER_INBOUND_SMTP_PORT > 0) {
      const inbound = await startInboundEmail({
        pool: appPool,
        port: config.ROSTER_INBOUND_SMTP_PORT,
        host: config.API_HOST,
        engine: {
          sealInput: (client, tenantId, input) => vault.seal(client, tenantId, input),
          maxRunsPerTenant: config.ROSTER_MAX_RUNS_PER_TENANT,
        },
      });
      shutdown.add('inbound SMTP', () => inbound.close());
      say(
        `✓ Inbound e-mail triggers: SMTP on ${config.API_HOST}:${inbound.port} (@${config.ROSTER_INBOUND_EMAIL_DOMAIN})`,
      );
    }
    await api.listen({ host: config.API_HOST, port: config.API_PORT });
    const base = `http://${config.API_HOST.includes(':') ? `[${config.API_HOST}]` : config.API_HOST}:${config.API_PORT}`;
    if (config.ROSTER_SEED_DEMO) {
      // The demo tenant's email-triage model, served by one CPU runner that pulls over /runner/v1.
      const demo = await ownerPool.query('SELECT id FROM tenants WHERE slug = $1', [
        DEMO_TENANT_SLUG,
      ]);
      const poolToken = await loadOrCreateDemoRunnerToken(config.ROSTER_HOME);
      await seedDemoInference(appPool, demo.rows[0].id as string, { poolToken });
      const runner = await startDemoRunner({ apiUrl: base, poolToken });
      shutdown.add('demo runner', () => runner.stop());
      say('✓ Demo model email-triage served by 1 CPU runner');
    }
    say('✓ Roster is up:');
    say(`    GraphQL    ${base}/graphql`);
    say(`    health     ${base}/healthz`);
    say(`    readiness  ${base}/readyz`);
    say('  Press Ctrl-C to stop.');
  } catch (err) {
    await shutdown.run();
    throw err;
  }
}
