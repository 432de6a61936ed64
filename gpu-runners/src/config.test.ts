import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRunnerArgs } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'runner-config-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, 'tok-123\n');

describe('parseRunnerArgs', () => {
  it('reads flags and the token file, with defaults for the rest', () => {
    const c = parseRunnerArgs([
      '--api-url',
      'http://127.0.0.1:4000',
      '--token-file',
      tokenFile,
      '--providers',
      'webgpu,cpu',
      '--max-batch',
      '128',
    ]);
    expect(c).toMatchObject({
      apiUrl: 'http://127.0.0.1:4000',
      poolToken: 'tok-123',
      providers: ['webgpu', 'cpu'],
      maxBatchSize: 128,
      maxQueueDelayMs: 2,
      threads: 1,
      fallbackToCpu: false,
    });
  });

  it('lets flags override a JSON config file', () => {
    const file = join(dir, 'runner.json');
    writeFileSync(
      file,
      JSON.stringify({
        apiUrl: 'http://127.0.0.1:1',
        poolToken: 'from-file',
        threads: 4,
        fallbackToCpu: true,
      }),
    );
    expect(parseRunnerArgs(['--config', file, '--threads', '2'])).toMatchObject({
      poolToken: 'from-file',
      threads: 2,
      fallbackToCpu: true,
    });
  });

  it('names every problem and prints the usage', () => {
    expect(() => parseRunnerArgs(['--providers', 'tpu', '--threads', '0'])).toThrow(
      expect.objectContaining({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(
          /apiUrl: .*poolToken: .*providers.0: .*threads: .*\nUsage:/s,
        ),
      }),
    );
  });
});
