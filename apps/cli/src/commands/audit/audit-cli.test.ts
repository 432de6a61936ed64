import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSigningKeyPair, sampleExportLines, verifyExport } from '@roster/audit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Each test starts the real CLI (seconds per process on a shared 2-core machine).
vi.setConfig({ testTimeout: 240_000 });

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../../../..');
const preload = path.join(here, 'no-network.preload.mjs');

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `roster` CLI as a child process with every network call made to throw. */
function roster(...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        '--import',
        preload,
        '--import',
        '@swc-node/register/esm-register',
        'apps/cli/src/main.ts',
        ...args,
      ],
      { cwd: repoRoot, timeout: 200_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir: string;
let good: string;
let tampered: string;
let publicKey: string;
let otherKey: string;
let lines: string[];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'roster-audit-cli-'));
  const key = generateSigningKeyPair();
  lines = [];
  for await (const line of sampleExportLines({
    events: 400,
    signingKey: key.privateKeyPem,
    digestEvery: 50,
    tenantId: 'acme',
  })) {
    lines.push(line);
  }
  good = path.join(dir, 'export.jsonl');
  await writeFile(good, `${lines.join('\n')}\n`);
  // Change one decision's label: its hash no longer matches.
  const at = lines.findIndex((l, i) => i > 100 && l.includes('"action":"decision.recorded"'));
  const changed = [...lines];
  changed[at] = changed[at]!.replace(/"label":"[a-z]+"/, '"label":"forged"');
  expect(changed[at]).not.toBe(lines[at]);
  tampered = path.join(dir, 'tampered.jsonl');
  await writeFile(tampered, `${changed.join('\n')}\n`);
  publicKey = path.join(dir, 'audit.pub');
  await writeFile(publicKey, key.publicKeyPem);
  otherKey = path.join(dir, 'other.pub');
  await writeFile(otherKey, generateSigningKeyPair().publicKeyPem);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the no-network preload', () => {
  it('makes a connection attempt fail (so the tests below can fail)', async () => {
    const outcome = await new Promise<Outcome>((resolve) => {
      execFile(
        process.execPath,
        ['--import', preload, '-e', "require('node:net').connect(5432, '127.0.0.1')"],
        (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }),
      );
    });
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain('NETWORK_FORBIDDEN');
  });
});

describe('roster audit verify', () => {
  it('verifies an untouched export offline and prints its summary', async () => {
    const { code, stdout, stderr } = await roster(
      'audit',
      'verify',
      good,
      '--public-key',
      publicKey,
    );
    expect(stderr).not.toContain('NETWORK_FORBIDDEN');
    expect(code).toBe(0);
    const header = JSON.parse(lines[0]!) as { keyId: string; lastHash: string };
    expect(stdout).toContain('✓ Verified');
    expect(stdout).toContain('tenant      acme');
    expect(stdout).toContain('events      400 (seq 1 to 400)');
    expect(stdout).toContain('digests     9');
    expect(stdout).toContain(header.lastHash);
    expect(stdout).toContain(header.keyId);
  });

  it('names the first changed event and exits 1', async () => {
    const { code, stdout, stderr } = await roster(
      'audit',
      'verify',
      tampered,
      '--public-key',
      publicKey,
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const changedAt = lines.findIndex(
      (l, i) => i > 100 && l.includes('"action":"decision.recorded"'),
    );
    const event = JSON.parse(lines[changedAt]!) as { seq: number; id: string };
    expect(stderr).toContain('✗ NOT verified');
    expect(stderr).toContain(`line ${changedAt + 1}, seq ${event.seq}, event ${event.id}`);
    expect(stderr).toContain('HASH_MISMATCH');
  });

  it('exits 1 for an untrusted key and 2, naming the argument, for bad arguments', async () => {
    // Started together: each child process takes seconds to boot on a busy machine.
    const [untrusted, noKey, missingKeyFile, noExport, missingExport] = await Promise.all([
      roster('audit', 'verify', good, '--public-key', otherKey),
      roster('audit', 'verify', good),
      roster('audit', 'verify', good, '--public-key', path.join(dir, 'nope.pub')),
      roster('audit', 'verify', '--public-key', publicKey),
      roster('audit', 'verify', path.join(dir, 'nope.jsonl'), '--public-key', publicKey),
    ]);
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toContain('UNKNOWN_KEY');
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain('--public-key');
    expect(missingKeyFile.code).toBe(2);
    expect(missingKeyFile.stderr).toContain('--public-key: cannot read');
    expect(noExport.code).toBe(2);
    expect(noExport.stderr).toContain("missing required argument 'export'");
    expect(missingExport.code).toBe(2);
    expect(missingExport.stderr).toContain('<export>: cannot read');
  });
});

describe('roster audit report and export-csv', () => {
  it('writes a PDF report of a verified export', async () => {
    const out = path.join(dir, 'report.pdf');
    const { code, stdout, stderr } = await roster(
      'audit',
      'report',
      good,
      '--public-key',
      publicKey,
      '--out',
      out,
      '--no-compress',
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`✓ Wrote ${out}`);
    const pdf = (await readFile(out)).toString('latin1');
    expect(pdf.startsWith('%PDF-')).toBe(true);
    // pdfkit writes text as hex strings in TJ arrays; uncompressed, they can be read back.
    const text = [...pdf.matchAll(/\[((?:<[0-9a-f]*>\s*-?[\d.]*\s*)+)\] TJ/g)]
      .map((run) =>
        [...run[1]!.matchAll(/<([0-9a-f]*)>/g)]
          .map((hex) => Buffer.from(hex[1]!, 'hex').toString('latin1'))
          .join(''),
      )
      .join('\n');
    expect(text).toContain('Tenant acme');
    expect(text).toContain('VERIFIED');
    expect(text).toContain('Decisions by model and outcome');
    expect(text).toContain('Review SLA performance');
  });

  it('writes no report and exits 1 when the export does not verify', async () => {
    const out = path.join(dir, 'bad-report.pdf');
    const { code, stderr } = await roster(
      'audit',
      'report',
      tampered,
      '--public-key',
      publicKey,
      '--out',
      out,
    );
    expect(code).toBe(1);
    expect(stderr).toContain('no report was written');
    await expect(stat(out)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('writes the events of a verified export as CSV', async () => {
    const out = path.join(dir, 'events.csv');
    const { code } = await roster(
      'audit',
      'export-csv',
      good,
      '--public-key',
      publicKey,
      '--out',
      out,
    );
    expect(code).toBe(0);
    const rows = (await readFile(out, 'utf8')).split('\r\n').filter((row) => row.length > 0);
    expect(rows[0]).toMatch(/^seq,id,occurredAt,/);
    expect(rows).toHaveLength(401);
    expect(rows[400]).toMatch(/^400,evt-400,/);
  });

  it('creates a signing key pair whose public key verifies what the private key signs', async () => {
    const { code, stdout } = await roster('audit', 'keygen', '--out-dir', dir, '--name', 'k1');
    expect(code).toBe(0);
    const keyId = /key id {2}([0-9a-f]{64})/.exec(stdout)?.[1];
    expect(keyId).toBeDefined();
    const privatePem = await readFile(path.join(dir, 'k1.key'), 'utf8');
    expect((await stat(path.join(dir, 'k1.key'))).mode & 0o077).toBe(0);
    const signed: string[] = [];
    for await (const line of sampleExportLines({ events: 3, signingKey: privatePem })) {
      signed.push(line);
    }
    const publicPem = await readFile(path.join(dir, 'k1.pub'), 'utf8');
    expect(await verifyExport(signed, [publicPem])).toMatchObject({ ok: true, keyIds: [keyId] });
    const again = await roster('audit', 'keygen', '--out-dir', dir, '--name', 'k1');
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
  });
});
