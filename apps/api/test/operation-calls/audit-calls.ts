import type { TestApi } from '../api-harness.js';
import type { DomainCalls, MatrixOwner } from './types.js';

const REQUEST = `mutation($i: RequestAuditExportInput!) { requestAuditExport(input: $i) { auditExport { id status } } }`;

/** An audit export requested by the owner (pending: no worker runs in the matrix). */
async function fixture(api: TestApi, owner: MatrixOwner) {
  const result = await api.gql(
    REQUEST,
    { i: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', format: 'JSONL' } },
    owner.token,
  );
  return { auditExportId: result.data?.requestAuditExport.auditExport.id as string };
}

const calls: DomainCalls = {
  fixture,
  calls: {
    requestAuditExport: {
      query: REQUEST,
      variables: () => ({
        i: { from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', format: 'CSV' },
      }),
      audit: { action: 'auditExport.requested' },
    },
    sealAuditDigests: {
      query: 'mutation { sealAuditDigests { queued } }',
      audit: { action: 'auditDigest.requested' },
    },
    auditExport: {
      query: 'query($id: ID!) { auditExport(id: $id) { status format } }',
      variables: (f) => ({ id: f.auditExportId }),
    },
    auditExports: { query: '{ auditExports(first: 5) { nodes { status } } }' },
    auditEvents: {
      query: '{ auditEvents(first: 5, action: "workflow.") { nodes { action actorType } } }',
    },
    auditDigests: { query: '{ auditDigests(first: 5) { nodes { seq keyId } } }' },
  },
};

export default calls;
