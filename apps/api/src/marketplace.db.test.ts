import { randomBytes, randomUUID } from 'node:crypto';
import { createLocalKeyProvider, generatePublisherKey, packPlugin } from '@roster/plugin-host';
import { describe, expect, it } from 'vitest';
import { startTestApi } from '../test/api-harness.js';
import { sampleManifest, samplePackage } from '../test/operation-calls/marketplace-calls.js';

const platformAdmins: string[] = [];
const api = await startTestApi({
  marketplace: {
    keyProvider: createLocalKeyProvider({ masterKey: randomBytes(32).toString('base64') }),
    platformAdmins,
  },
});
const publisherTenant = await api.signUp('Publisher');
const reviewer = await api.signUp('Platform');
platformAdmins.push(reviewer.email);
const key = generatePublisherKey(`pub-${randomBytes(3).toString('hex')}`);
await api.gql(
  `mutation($i: RegisterPublisherInput!) { registerPublisher(input: $i) { publisher { id } } }`,
  { i: { name: key.publisher, publicKey: key.publicKey } },
  publisherTenant.token,
);

const PUBLISH = `mutation($i: PublishPluginVersionInput!) { publishPluginVersion(input: $i) { pluginVersion { id version reviewState requestedCapabilities } } }`;
const REVIEW = `mutation($i: ReviewPluginVersionInput!) { reviewPluginVersion(input: $i) { pluginVersion { reviewState } } }`;

async function publishApproved(pkg: unknown, changelog = '') {
  const published = await api.gql(
    PUBLISH,
    { i: { package: pkg, changelog } },
    publisherTenant.token,
  );
  if (published.errors) throw new Error(JSON.stringify(published.errors));
  const id = published.data?.publishPluginVersion.pluginVersion.id as string;
  const reviewed = await api.gql(REVIEW, { i: { id, decision: 'APPROVED' } }, reviewer.token);
  if (reviewed.errors) throw new Error(JSON.stringify(reviewed.errors));
  return id;
}

describe('publishing and review', () => {
  it('refuses packages that do not verify with the registered keys, and stores nothing', async () => {
    const id = `p-${randomUUID().slice(0, 8)}`;
    const good = samplePackage(key, id);
    const stranger = generatePublisherKey(key.publisher); // same name, unregistered key
    const cases = [
      [{ ...good, code: `${good.code};1` }, 'INTEGRITY_MISMATCH'],
      [samplePackage(stranger, id), 'UNKNOWN_PUBLISHER'],
      [
        {
          ...good,
          signature: {
            ...good.signature,
            value: good.signature.value.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
          },
        },
        'SIGNATURE_INVALID',
      ],
    ] as const;
    for (const [pkg, reason] of cases) {
      const r = await api.gql(PUBLISH, { i: { package: pkg } }, publisherTenant.token);
      expect(r.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'input.package',
        reason,
      });
    }
    const { rows } = await api.db.ownerPool.query(
      'SELECT count(*)::int AS n FROM plugins WHERE plugin_key = $1',
      [id],
    );
    expect(rows[0].n).toBe(0);
  });

  it("refuses to publish as another tenant's publisher", async () => {
    const other = await api.signUp('Other');
    const r = await api.gql(
      PUBLISH,
      { i: { package: samplePackage(key, 'x-other') } },
      other.token,
    );
    expect(r.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('lists a version only once approved; versions are immutable; review is for platform admins and final', async () => {
    const id = `p-${randomUUID().slice(0, 8)}`;
    const published = await api.gql(
      PUBLISH,
      { i: { package: samplePackage(key, id), changelog: 'One.' } },
      publisherTenant.token,
    );
    const versionId = published.data?.publishPluginVersion.pluginVersion.id as string;
    expect(published.data?.publishPluginVersion.pluginVersion).toMatchObject({
      reviewState: 'PENDING',
      requestedCapabilities: ['http'],
    });

    const search = () =>
      api.gql(
        `query($s: String) { plugins(search: $s) { nodes { key versions { version changelog } } } }`,
        { s: id },
        publisherTenant.token,
      );
    expect((await search()).data?.plugins.nodes).toEqual([]);

    const again = await api.gql(
      PUBLISH,
      { i: { package: samplePackage(key, id) } },
      publisherTenant.token,
    );
    expect(again.errors?.[0]?.extensions?.code).toBe('CONFLICT');

    const notAdmin = await api.gql(
      REVIEW,
      { i: { id: versionId, decision: 'APPROVED' } },
      publisherTenant.token,
    );
    expect(notAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    expect(
      (await api.gql(REVIEW, { i: { id: versionId, decision: 'APPROVED' } }, reviewer.token)).data
        ?.reviewPluginVersion.pluginVersion.reviewState,
    ).toBe('APPROVED');
    expect(
      (await api.gql(REVIEW, { i: { id: versionId, decision: 'REJECTED' } }, reviewer.token))
        .errors?.[0]?.extensions?.code,
    ).toBe('CONFLICT');
    expect((await search()).data?.plugins.nodes).toEqual([
      { key: id, versions: [{ version: '1.0.0', changelog: 'One.' }] },
    ]);

    // A rejected version stays out of the history.
    const v2 = await api.gql(
      PUBLISH,
      { i: { package: samplePackage(key, id, '1.1.0') } },
      publisherTenant.token,
    );
    await api.gql(
      REVIEW,
      {
        i: { id: v2.data?.publishPluginVersion.pluginVersion.id, decision: 'REJECTED', note: 'no' },
      },
      reviewer.token,
    );
    expect((await search()).data?.plugins.nodes[0].versions).toHaveLength(1);
  });
});

describe('installations, consent and connections', () => {
  it('needs consent for exactly the requested capabilities, and fresh consent for new ones on upgrade', async () => {
    const id = `p-${randomUUID().slice(0, 8)}`;
    const v1 = await publishApproved(samplePackage(key, id));
    const manifest2 = sampleManifest(id, '2.0.0');
    const v2 = await publishApproved(
      packPlugin(
        {
          manifest: {
            ...manifest2,
            capabilities: { ...manifest2.capabilities, kv: {} },
          },
          code: 'void 0;',
        } as never,
        key,
      ),
      'Adds caching.',
    );
    const tenant = await api.signUp('Customer');
    const install = (granted: string[]) =>
      api.gql(
        `mutation($i: InstallPluginInput!) { installPlugin(input: $i) { installation { id version grantedCapabilities } } }`,
        { i: { versionId: v1, grantedCapabilities: granted } },
        tenant.token,
      );
    expect((await install([])).errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      missing: ['http'],
    });
    expect((await install(['http', 'smtp'])).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const installed = await install(['http']);
    const installationId = installed.data?.installPlugin.installation.id as string;

    const upgrade = (granted: string[]) =>
      api.gql(
        `mutation($i: UpgradeInstallationInput!) { upgradeInstallation(input: $i) { installation { version grantedCapabilities } capabilityDiff { added removed } } }`,
        { i: { installationId, versionId: v2, grantedCapabilities: granted } },
        tenant.token,
      );
    expect((await upgrade(['http'])).errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      missing: ['kv'],
      newCapabilities: ['kv'],
    });
    expect((await upgrade(['http', 'kv'])).data?.upgradeInstallation).toEqual({
      installation: { version: '2.0.0', grantedCapabilities: ['http', 'kv'] },
      capabilityDiff: { added: ['kv'], removed: [] },
    });

    // A builder may not consent to capabilities.
    const builder = await api.addMember(tenant.token, 'builder');
    const denied = await api.gql(
      `mutation($i: UpgradeInstallationInput!) { upgradeInstallation(input: $i) { installation { version } } }`,
      { i: { installationId, versionId: v1, grantedCapabilities: ['http'] } },
      builder.token,
    );
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('keeps connections to their tenant, returns only metadata, rotates, and uninstall removes them', async () => {
    const id = `p-${randomUUID().slice(0, 8)}`;
    const versionId = await publishApproved(samplePackage(key, id));
    const a = await api.signUp('A');
    const b = await api.signUp('B');
    const installed = await api.gql(
      `mutation($i: InstallPluginInput!) { installPlugin(input: $i) { installation { id } } }`,
      { i: { versionId, grantedCapabilities: ['http'] } },
      a.token,
    );
    const installationId = installed.data?.installPlugin.installation.id as string;
    const canary = `canary-${randomUUID()}`;
    const created = await api.gql(
      `mutation($i: CreateConnectionInput!) { createConnection(input: $i) { connection { id name keyVersion } } }`,
      { i: { installationId, name: 'main', secrets: { token: canary } } },
      a.token,
    );
    expect(JSON.stringify(created)).not.toContain(canary);
    const connectionId = created.data?.createConnection.connection.id as string;

    // Tenant B sees none of it and cannot act on it.
    expect(
      (await api.gql('{ connections { nodes { id } } }', {}, b.token)).data?.connections.nodes,
    ).toEqual([]);
    for (const op of ['rotateConnection', 'testConnection', 'deleteConnection']) {
      const input = op === 'rotateConnection' ? 'RotateConnectionInput' : 'ConnectionIdInput';
      const field = op === 'testConnection' ? 'result { ok }' : 'connection { id }';
      const r = await api.gql(
        `mutation($i: ${input}!) { ${op}(input: $i) { ${field} } }`,
        { i: { id: connectionId } },
        b.token,
      );
      expect(r.errors?.[0]?.extensions?.code, op).toBe('NOT_FOUND');
    }

    const rotated = await api.gql(
      `mutation($i: RotateConnectionInput!) { rotateConnection(input: $i) { connection { id keyVersion } } }`,
      { i: { id: connectionId, secrets: { token: `${canary}-2` } } },
      a.token,
    );
    expect(rotated.data?.rotateConnection.connection.id).toBe(connectionId);
    const { rows: audit } = await api.db.ownerPool.query(
      'SELECT kind, data FROM audit_events WHERE tenant_id = $1 ORDER BY id',
      [a.tenantId],
    );
    expect(audit.map((r) => r.kind)).toEqual(
      expect.arrayContaining(['plugin.installed', 'connection.created', 'connection.rotated']),
    );
    expect(JSON.stringify(audit)).not.toContain(canary);

    const uninstalled = await api.gql(
      `mutation($i: InstallationIdInput!) { uninstallPlugin(input: $i) { installation { status } } }`,
      { i: { id: installationId } },
      a.token,
    );
    expect(uninstalled.data?.uninstallPlugin.installation.status).toBe('uninstalled');
    expect(
      (await api.gql('{ connections { nodes { id } } }', {}, a.token)).data?.connections.nodes,
    ).toEqual([]);
  });
});
