import { loadConfigOrExit } from '@roster/config';
import { InferenceError } from '@roster/inference';
import type { Command } from 'commander';
import { ModelCommandError, registerModelCommand } from './register-model.js';

const say = (line: string) => process.stdout.write(`${line}\n`);

/** Typed errors print their code and message (which says what to change); exit 1. */
function fail(error: unknown): never {
  if (error instanceof InferenceError || error instanceof ModelCommandError) {
    process.stderr.write(`roster: ${error.code}: ${error.message}\n`);
    process.exit(1);
  }
  if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
    process.stderr.write(`roster: ${(error as Error).message}\n`);
    process.exit(1);
  }
  throw error;
}

/** `roster model register`. */
export function registerModelCommands(program: Command): void {
  const model = program.command('model').description('register ONNX models for a tenant');
  model
    .command('register')
    .argument('<file>', 'the .onnx file')
    .requiredOption('--tenant <slug>', 'the tenant (by slug)')
    .option('--name <name>', 'model name (default: the file name without .onnx)')
    .option('--labels <list>', "comma-separated labels (default: the file's roster.labels)")
    .option('--featurizer <file>', "featurizer spec JSON (default: the file's roster.featurizer)")
    .option('--metrics <file>', 'evaluation metrics JSON')
    .description(
      'upload a model version: checked with onnxruntime against its featurizer and labels',
    )
    .action(async (file: string, options) => {
      const config = loadConfigOrExit(process.env);
      await registerModelCommand(config, file, options, say).catch(fail);
    });
}
