import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { splitLines } from '@roster/audit';
import { Presets, SingleBar } from 'cli-progress';
import { UsageError } from './usage-error.js';

/** Files at least this large show a progress bar (when stderr is a terminal). */
const PROGRESS_FROM_BYTES = 32 * 1024 * 1024;

export interface ExportFile {
  lines: AsyncIterable<string>;
  bytes: number;
  /** Stops the progress bar; call when done reading, whatever the outcome. */
  close(): void;
}

/**
 * Opens a JSONL export for streaming. Large files show a progress bar on stderr (cli-progress
 * draws nothing when stderr is not a terminal, so piped output stays clean).
 */
export async function openExportFile(
  path: string,
  options: { progress?: boolean; stderr?: NodeJS.WriteStream } = {},
): Promise<ExportFile> {
  let bytes: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new UsageError('<export>', `${path} is not a file`);
    bytes = info.size;
  } catch (cause) {
    if (cause instanceof UsageError) throw cause;
    throw new UsageError(
      '<export>',
      `cannot read ${path} (${(cause as NodeJS.ErrnoException).code ?? 'error'})`,
      { cause },
    );
  }
  const showProgress = (options.progress ?? true) && bytes >= PROGRESS_FROM_BYTES;
  const bar = showProgress
    ? new SingleBar(
        {
          stream: options.stderr ?? process.stderr,
          format: 'verifying |{bar}| {percentage}% | {value}/{total} MB | eta {eta}s',
          hideCursor: true,
          clearOnComplete: false,
        },
        Presets.shades_classic,
      )
    : null;
  bar?.start(Math.ceil(bytes / 1e6), 0);
  let read = 0;
  async function* chunks(): AsyncGenerator<Buffer> {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      read += (chunk as Buffer).length;
      bar?.update(Math.floor(read / 1e6));
      yield chunk as Buffer;
    }
  }
  return {
    lines: splitLines(chunks()),
    bytes,
    close() {
      bar?.stop();
    },
  };
}
