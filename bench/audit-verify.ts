// bench:audit — offline verification of a JSONL audit export (hash chain + signed digests), as
// `roster audit verify` streams it, beside a baseline that reads the same file line by line and
// only JSON.parses each line (no hashing, no signatures), in the same run.
//
//   node --import @swc-node/register/esm-register bench/audit-verify.ts [--events 1000000]
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import {
  generateSigningKeyPair,
  sampleExportLines,
  splitLines,
  verifyExport,
  withNewlines,
} from '@roster/audit';
import { median, printReport, round } from './src/report.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    rounds: { type: 'string', default: '3' },
    'digest-every': { type: 'string', default: '1000' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const DIGEST_EVERY = Number(values['digest-every']);
if (!Number.isSafeInteger(EVENTS) || EVENTS < 1 || !(ROUNDS >= 1) || !(DIGEST_EVERY >= 1)) {
  process.stderr.write('--events, --rounds and --digest-every must be positive integers\n');
  process.exit(2);
}

const say = (line: string) => process.stdout.write(`${line}\n`);
const dir = await mkdtemp(path.join(tmpdir(), 'roster-bench-audit-'));
const file = path.join(dir, 'export.jsonl');

try {
  const key = generateSigningKeyPair();
  let started = performance.now();
  await pipeline(
    Readable.from(
      withNewlines(
        sampleExportLines({
          events: EVENTS,
          signingKey: key.privateKeyPem,
          digestEvery: DIGEST_EVERY,
        }),
      ),
    ),
    createWriteStream(file),
  );
  const bytes = (await stat(file)).size;
  say(
    `generated ${EVENTS.toLocaleString('en-US')} events, digest every ${DIGEST_EVERY} (${(bytes / 1e6).toFixed(0)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  const lines = () => splitLines(createReadStream(file, { highWaterMark: 1 << 20 }));

  /** The baseline: the same reader, JSON.parse per line, nothing else. */
  async function parseOnly(): Promise<number> {
    let n = 0;
    for await (const line of lines()) {
      if (line.length > 0 && (JSON.parse(line) as { type?: string }).type === 'event') n++;
    }
    return n;
  }

  async function verify(): Promise<number> {
    const result = await verifyExport(lines(), [key.publicKeyPem]);
    if (!result.ok)
      throw new Error(`the generated export did not verify: ${result.failure.message}`);
    return result.events;
  }

  const verifyRates: number[] = [];
  const parseRates: number[] = [];
  const verifyMs: number[] = [];
  for (let r = 1; r <= ROUNDS; r++) {
    // Interleaved, alternating which goes first, so drift on a shared machine hits both.
    const order = r % 2 === 1 ? (['parse', 'verify'] as const) : (['verify', 'parse'] as const);
    for (const which of order) {
      started = performance.now();
      const events = which === 'parse' ? await parseOnly() : await verify();
      const ms = performance.now() - started;
      if (events !== EVENTS) throw new Error(`${which} saw ${events} events, expected ${EVENTS}`);
      (which === 'parse' ? parseRates : verifyRates).push((events / ms) * 1000);
      if (which === 'verify') verifyMs.push(ms);
      say(
        `round ${r}: ${which.padEnd(6)} ${Math.round((events / ms) * 1000).toLocaleString('en-US')} events/s (${(ms / 1000).toFixed(2)} s)`,
      );
    }
  }
  const spread = (xs: number[]) =>
    `${Math.round(Math.min(...xs)).toLocaleString('en-US')}..${Math.round(Math.max(...xs)).toLocaleString('en-US')}`;
  say(`spread: verify ${spread(verifyRates)} events/s, parse-only ${spread(parseRates)} events/s`);

  const verifyRate = median(verifyRates);
  const parseRate = median(parseRates);
  printReport({
    bench: 'audit',
    figures: {
      verify_events_per_s: Math.round(verifyRate),
      parse_only_events_per_s: Math.round(parseRate),
    },
    ratios: { verify_vs_parse: round(verifyRate / parseRate, 3) },
    latency_ms: { verify_whole_export: Math.round(median(verifyMs)) },
    env: {
      node: process.version,
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model ?? 'unknown',
      events: EVENTS,
      digest_every: DIGEST_EVERY,
      export_mb: round(bytes / 1e6, 1),
      rounds: ROUNDS,
    },
  });
} finally {
  await rm(dir, { recursive: true, force: true });
}
