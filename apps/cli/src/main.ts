import { loadConfigOrExit } from '@roster/config';
import { DbError } from '@roster/db';
import { Command } from 'commander';
import { registerAuditCommands } from './commands/audit/register.js';
import { migrateCommand } from './commands/migrate.js';
import { registerModelCommands } from './commands/model/register.js';
import { registerPluginCommands } from './commands/plugin/register.js';
import { up } from './commands/up.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Known failures print their message (which says what to change), not a stack trace. */
function fail(err: unknown): never {
  if (err instanceof DbError) {
    process.stderr.write(`roster: ${err.message}\n`);
    process.exit(1);
  }
  throw err;
}

function parseWorkerCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 64) {
    process.stderr.write(
      `roster: --workers must be a whole number from 0 to 64, got ${JSON.stringify(value)}\n`,
    );
    process.exit(2);
  }
  return n;
}

const program = new Command('roster').description(
  'Roster: the control plane for an AI digital workforce',
);

program
  .command('up')
  .description('start the whole stack on this machine (embedded Postgres unless DATABASE_URL)')
  .option('--workers <n>', 'worker processes to run the workflow queue', parseWorkerCount, 1)
  .action(async (options: { workers: number }) => {
    const config = loadConfigOrExit(process.env);
    await up(config, { say, exit: (code) => process.exit(code), workers: options.workers }).catch(
      fail,
    );
  });

program
  .command('migrate')
  .description('apply pending database migrations and exit')
  .action(async () => {
    const config = loadConfigOrExit(process.env);
    await migrateCommand(config, say).catch(fail);
  });

registerAuditCommands(program);

registerPluginCommands(program);

registerModelCommands(program);

await program.parseAsync(process.argv);
