import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { PluginHostError } from '@roster/plugin-host';
import { templateFiles } from './template.js';

const ID = /^[a-z][a-z0-9-]{0,63}$/;

/** Scaffolds a connector folder; refuses a non-empty target so nothing is overwritten. */
export async function initPlugin(
  id: string,
  options: { dir?: string; name?: string },
  say: (line: string) => void,
): Promise<string> {
  if (!ID.test(id)) {
    throw new PluginHostError(
      'INVALID_LIMITS',
      `Plugin id "${id}" must be lower-case letters, digits and "-", starting with a letter (e.g. acme-crm).`,
    );
  }
  const target = resolve(options.dir ?? id);
  const existing = await readdir(target).catch(() => []);
  if (existing.length > 0) {
    throw new PluginHostError(
      'INVALID_LIMITS',
      `${target} is not empty: choose a new folder with --dir.`,
    );
  }
  const name =
    options.name ??
    id.replace(
      /(^|-)([a-z])/g,
      (_m, sep: string, c: string) => `${sep ? ' ' : ''}${c.toUpperCase()}`,
    );
  for (const [path, text] of Object.entries(templateFiles({ id, name }))) {
    const file = join(target, path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, text);
  }
  say(`Created ${id} in ${target}. Next: roster plugin test ${target}`);
  return target;
}
