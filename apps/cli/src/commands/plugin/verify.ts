import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PluginHostError, parsePublisherKey, verifyPackage } from '@roster/plugin-host';

/** Verifies a package file against trusted public keys, as a host does before installing. */
export async function verifyCommand(
  file: string,
  options: { trust: string[] },
  say: (line: string) => void,
): Promise<void> {
  if (options.trust.length === 0) {
    throw new PluginHostError(
      'UNKNOWN_PUBLISHER',
      'Pass at least one trusted public key: --trust <publisher>.pub.json.',
    );
  }
  const keys = await Promise.all(
    options.trust.map(async (path) =>
      parsePublisherKey(JSON.parse(await readFile(resolve(path), 'utf8')), 'public'),
    ),
  );
  let data: unknown;
  try {
    data = JSON.parse(await readFile(resolve(file), 'utf8'));
  } catch (error) {
    throw new PluginHostError(
      'PACKAGE_MALFORMED',
      `${file} is not a JSON plugin package.`,
      {},
      { cause: error },
    );
  }
  const plugin = verifyPackage(data, keys);
  say(
    `OK ${plugin.manifest.id}@${plugin.manifest.version} signed by ${plugin.publisher} (${plugin.keyId}), ${plugin.integrity}`,
  );
}
