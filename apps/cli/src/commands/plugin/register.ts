import { isPluginHostError } from '@roster/plugin-host';
import type { Command } from 'commander';
import { initPlugin } from './init.js';
import { keygen } from './keygen.js';
import { packCommand } from './pack.js';
import { PublishError, publishCommand } from './publish.js';
import { runPluginTests } from './run-tests.js';
import { verifyCommand } from './verify.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Typed plugin errors print their code and message (which says what to change). */
function fail(error: unknown): never {
  if (isPluginHostError(error)) {
    process.stderr.write(`roster: ${error.code}: ${error.message}\n`);
    process.exit(1);
  }
  if (error instanceof PublishError) {
    process.stderr.write(`roster: ${error.code}: ${error.message}\n`);
    process.exit(1);
  }
  if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
    process.stderr.write(`roster: ${(error as Error).message} (refusing to overwrite)\n`);
    process.exit(1);
  }
  throw error;
}

/** `roster plugin init | test | keygen | pack | verify | publish`. */
export function registerPluginCommands(program: Command): void {
  const plugin = program
    .command('plugin')
    .description('author, test, pack and verify connector plugins');

  plugin
    .command('init')
    .argument('<id>', 'connector id, e.g. acme-crm')
    .option('--dir <dir>', 'target folder (default: ./<id>)')
    .option('--name <name>', 'display name')
    .description(
      'scaffold a connector: manifest, connection with a test, one action, a test, README',
    )
    .action(async (id: string, options: { dir?: string; name?: string }) => {
      await initPlugin(id, options, say).catch(fail);
    });

  plugin
    .command('test')
    .argument('[dir]', 'plugin folder', '.')
    .description("run the plugin's vitest tests")
    .action(async (dir: string) => {
      process.exitCode = await runPluginTests(dir).catch(fail);
    });

  plugin
    .command('keygen')
    .requiredOption('--publisher <name>', 'publisher name, e.g. acme')
    .option('--out <dir>', 'where to write the key files (default: .)')
    .description('make an ed25519 publisher key pair for signing packages')
    .action(async (options: { publisher: string; out?: string }) => {
      await keygen(options.publisher, options, say).catch(fail);
    });

  plugin
    .command('pack')
    .argument('[dir]', 'plugin folder', '.')
    .requiredOption('--key <file>', 'publisher secret key (<publisher>.key.json)')
    .option('--out <dir>', 'output folder (default: <dir>/dist)')
    .description('bundle, check conformance, write manifest.json and the signed package')
    .action(async (dir: string, options: { key: string; out?: string }) => {
      await packCommand(dir, options, say).catch(fail);
    });

  plugin
    .command('verify')
    .argument('<package>', 'a .roster-plugin.json file')
    .option('--trust <file...>', 'trusted publisher public keys (<publisher>.pub.json)', [])
    .description("check a package's integrity and signature, as a host does before installing")
    .action(async (file: string, options: { trust: string[] }) => {
      await verifyCommand(file, options, say).catch(fail);
    });

  plugin
    .command('publish')
    .argument('<package>', 'a .roster-plugin.json file from `roster plugin pack`')
    .requiredOption('--api <url>', 'Roster API base URL, e.g. http://127.0.0.1:4000')
    .requiredOption(
      '--token <token>',
      'session token or API key of an owner/admin of the publisher',
    )
    .option('--changelog <text>', 'what changed in this version')
    .description('upload a signed package to the marketplace (it waits for review)')
    .action(async (file: string, options: { api: string; token: string; changelog?: string }) => {
      await publishCommand(file, options, say).catch(fail);
    });
}
