import { generatePublisherKey, type PublisherPrivateKey, packPlugin } from '@roster/plugin-host';
import type { PluginManifest } from '@roster/plugin-sdk';
import type { TestApi } from '../api-harness.js';
import type { DomainCalls, MatrixOwner } from './types.js';

/** A minimal valid manifest: one http action that is also the connection test. */
export function sampleManifest(id: string, version = '1.0.0'): PluginManifest {
  return {
    manifestVersion: 1,
    id,
    name: `Sample ${id}`,
    version,
    description: 'A sample connector for tests.',
    capabilities: { http: { hosts: ['api.example.com'] } },
    connection: { schema: { type: 'object' }, test: 'ping' },
    actions: {
      ping: {
        title: 'Ping',
        input: { type: 'object' },
        output: { type: 'object' },
        uses: ['http'],
      },
    },
  } as unknown as PluginManifest;
}

const uuidOf = (globalId: string) => Buffer.from(globalId, 'base64url').toString().split(':')[1];

/** A signed package of `sampleManifest` (the code is never run by the matrix's calls). */
export function samplePackage(key: PublisherPrivateKey, id: string, version = '1.0.0') {
  return packPlugin({ manifest: sampleManifest(id, version), code: 'void 0;' } as never, key);
}

let publisher: { key: PublisherPrivateKey; token: string; id: string } | undefined;
let counter = 0;

/** Registers (once per owner) a publisher, publishes a fresh plugin and approves it in SQL. */
async function fixture(api: TestApi, owner: MatrixOwner) {
  if (publisher?.token !== owner.token) {
    const key = generatePublisherKey(`matrix-${Date.now().toString(36)}`);
    const r = await api.gql(
      `mutation($i: RegisterPublisherInput!) { registerPublisher(input: $i) { publisher { id } } }`,
      { i: { name: key.publisher, publicKey: key.publicKey } },
      owner.token,
    );
    if (r.errors) throw new Error(JSON.stringify(r.errors));
    publisher = { key, token: owner.token, id: r.data?.registerPublisher.publisher.id as string };
  }
  const pluginKey = `m${++counter}-${Date.now().toString(36)}`;
  const published = await api.gql(
    `mutation($i: PublishPluginVersionInput!) { publishPluginVersion(input: $i) { pluginVersion { id } } }`,
    { i: { package: samplePackage(publisher.key, pluginKey), changelog: 'First.' } },
    owner.token,
  );
  if (published.errors) throw new Error(JSON.stringify(published.errors));
  const versionId = published.data?.publishPluginVersion.pluginVersion.id as string;
  // Review is a platform admin's; the matrix is about tenant roles, so approve it directly.
  await api.db.ownerPool.query(
    `UPDATE plugin_versions SET review_state = 'approved', reviewed_by = 'matrix' WHERE id = $1`,
    [Buffer.from(versionId, 'base64url').toString().split(':')[1]],
  );
  const second = await api.gql(
    `mutation($i: PublishPluginVersionInput!) { publishPluginVersion(input: $i) { pluginVersion { id } } }`,
    { i: { package: samplePackage(publisher.key, pluginKey, '1.1.0') } },
    owner.token,
  );
  const pendingVersionId = second.data?.publishPluginVersion.pluginVersion.id as string;
  const installed = await api.gql(
    `mutation($i: InstallPluginInput!) { installPlugin(input: $i) { installation { id pluginId } } }`,
    { i: { versionId, grantedCapabilities: ['http'] } },
    owner.token,
  );
  if (installed.errors) throw new Error(JSON.stringify(installed.errors));
  const installationId = installed.data?.installPlugin.installation.id as string;
  const connection = await api.gql(
    `mutation($i: CreateConnectionInput!) { createConnection(input: $i) { connection { id } } }`,
    { i: { installationId, name: 'main', secrets: { token: 'matrix-secret' } } },
    owner.token,
  );
  if (connection.errors) throw new Error(JSON.stringify(connection.errors));
  return {
    pluginKey,
    pluginId: installed.data?.installPlugin.installation.pluginId as string,
    pluginVersionId: versionId,
    pendingVersionId,
    installationId,
    connectionId: connection.data?.createConnection.connection.id as string,
    publisherKey: JSON.stringify(publisher.key),
    publisherId: publisher.id,
  };
}

const calls: DomainCalls = {
  fixture,
  calls: {
    plugins: { query: '{ plugins(first: 5) { nodes { key } } }' },
    plugin: {
      query: `query($id: ID!) { plugin(id: $id) { key versions { version changelog } } }`,
      variables: (f) => ({ id: f.pluginId }),
    },
    registerPublisher: {
      query: `mutation($i: RegisterPublisherInput!) { registerPublisher(input: $i) { publisher { name } } }`,
      variables: () => {
        const key = generatePublisherKey(`r-${crypto.randomUUID().slice(0, 8)}`);
        return { i: { name: key.publisher, publicKey: key.publicKey } };
      },
      audit: { action: 'publisher.registered' },
    },
    addPublisherKey: {
      query: `mutation($i: AddPublisherKeyInput!) { addPublisherKey(input: $i) { publisher { keyIds } } }`,
      variables: (f) => ({
        i: {
          publisherId:
            f.addKeyPublisherId ??
            Buffer.from(`Publisher:${'0'.repeat(8)}-0000-0000-0000-${'0'.repeat(12)}`).toString(
              'base64url',
            ),
          publicKey: generatePublisherKey('x').publicKey,
        },
      }),
      // Allowed callers reach the service, which finds no such publisher.
      allowedErrors: ['NOT_FOUND'],
      audit: {
        action: 'publisher.key_added',
        // The owner's own publisher, so the key is added.
        prepare: async (_api, f) => {
          f.addKeyPublisherId = f.publisherId as string;
        },
      },
    },
    publishPluginVersion: {
      query: `mutation($i: PublishPluginVersionInput!) { publishPluginVersion(input: $i) { pluginVersion { reviewState } } }`,
      variables: (f) => {
        const key = JSON.parse(f.publisherKey as string) as PublisherPrivateKey;
        return { i: { package: samplePackage(key, f.pluginKey as string, `2.0.${++counter}`) } };
      },
      audit: { action: 'pluginVersion.published' },
    },
    reviewPluginVersion: {
      query: `mutation($i: ReviewPluginVersionInput!) { reviewPluginVersion(input: $i) { pluginVersion { reviewState } } }`,
      variables: (f) => ({ i: { id: f.pendingVersionId, decision: 'APPROVED' } }),
      // Any signed-in member may call it; only the configured platform admins pass (tested apart).
      allowedErrors: ['FORBIDDEN'],
      audit: {
        action: 'pluginVersion.reviewed',
        // Make the owner (who published the version) a platform admin of this server.
        prepare: async (api, f) => {
          const { rows } = await api.db.ownerPool.query(
            'SELECT u.email FROM plugin_versions v JOIN users u ON u.id = v.published_by WHERE v.id = $1',
            [uuidOf(f.pendingVersionId as string)],
          );
          api.platformAdmins.push(rows[0].email);
        },
      },
    },
    installations: { query: '{ installations(first: 5) { nodes { pluginKey } } }' },
    connections: { query: '{ connections(first: 5) { nodes { name keyVersion } } }' },
    installPlugin: {
      query: `mutation($i: InstallPluginInput!) { installPlugin(input: $i) { installation { id } } }`,
      variables: (f) => ({ i: { versionId: f.pluginVersionId, grantedCapabilities: ['http'] } }),
      // The fixture already installed it: an allowed caller gets CONFLICT.
      allowedErrors: ['CONFLICT'],
      audit: {
        action: 'plugin.installed',
        // Uninstalled first, so the owner's install goes through.
        prepare: async (api, f) => {
          await api.db.ownerPool.query(
            `UPDATE installations SET status = 'uninstalled' WHERE id = $1`,
            [uuidOf(f.installationId as string)],
          );
        },
      },
    },
    upgradeInstallation: {
      query: `mutation($i: UpgradeInstallationInput!) { upgradeInstallation(input: $i) { capabilityDiff { added } } }`,
      variables: (f) => ({
        i: {
          installationId: f.installationId,
          versionId: f.pluginVersionId,
          grantedCapabilities: ['http'],
        },
      }),
      audit: { action: 'plugin.upgraded' },
    },
    uninstallPlugin: {
      query: `mutation($i: InstallationIdInput!) { uninstallPlugin(input: $i) { installation { status } } }`,
      variables: (f) => ({ i: { id: f.installationId } }),
      audit: { action: 'plugin.uninstalled' },
    },
    createConnection: {
      query: `mutation($i: CreateConnectionInput!) { createConnection(input: $i) { connection { name } } }`,
      variables: (f) => ({
        i: { installationId: f.installationId, name: 'second', secrets: { token: 't' } },
      }),
      audit: { action: 'connection.created' },
    },
    rotateConnection: {
      query: `mutation($i: RotateConnectionInput!) { rotateConnection(input: $i) { connection { keyVersion } } }`,
      variables: (f) => ({ i: { id: f.connectionId } }),
      record: { subject: 'Connection', row: {} },
      audit: { action: 'connection.rotated' },
    },
    deleteConnection: {
      query: `mutation($i: ConnectionIdInput!) { deleteConnection(input: $i) { connection { name } } }`,
      variables: (f) => ({ i: { id: f.connectionId } }),
      record: { subject: 'Connection', row: {} },
      audit: { action: 'connection.deleted' },
    },
    testConnection: {
      query: `mutation($i: ConnectionIdInput!) { testConnection(input: $i) { result { ok code } } }`,
      variables: (f) => ({ i: { id: f.connectionId } }),
      audit: { action: 'connection.tested' },
    },
  },
};

export default calls;
