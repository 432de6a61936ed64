import { cpus } from 'node:os';

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export const round = (n: number, digits = 2) => Number(n.toFixed(digits));

export function benchEnv(postgresVersion: string) {
  return {
    node: process.version,
    postgres: postgresVersion,
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
  };
}

export interface BenchReport {
  bench: string;
  figures: Record<string, number>;
  ratios: Record<string, number>;
  latency_ms?: Record<string, number>;
  /** Differences from a reference (e.g. accelerator scores vs the CPU's). */
  agreement?: Record<string, number>;
  env: Record<string, unknown>;
  notes?: string[];
}

/** The LAST line of a benchmark's output: one JSON object (shared/BENCH.md). */
export function printReport(report: BenchReport): void {
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
