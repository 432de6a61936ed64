import type { TestApi } from '../api-harness.js';
import type { DomainCalls, MatrixOwner } from './types.js';

/** The tenant's current governance policy version (updates must name it). */
async function fixture(api: TestApi, owner: MatrixOwner) {
  const res = await api.gql('{ governancePolicy { version } }', {}, owner.token);
  return { governanceVersion: String(res.data?.governancePolicy.version ?? 0) };
}

// The governance policy is roles.yaml's Policy subject.
const calls: DomainCalls = {
  fixture,
  calls: {
    governancePolicy: { query: '{ governancePolicy { version effective defaults override } }' },
    governancePolicyVersions: {
      query: '{ governancePolicyVersions(first: 5) { nodes { version comment createdAt } } }',
    },
    updateGovernancePolicy: {
      query: `mutation($i: UpdateGovernancePolicyInput!) { updateGovernancePolicy(input: $i) { governancePolicy { version } } }`,
      variables: (f) => ({
        i: {
          document: { thresholds: { default: 0.85 } },
          expectedVersion: Number(f.governanceVersion),
          comment: 'matrix',
        },
      }),
      audit: { action: 'policy.changed' },
    },
  },
};

export default calls;
