import { fileURLToPath } from 'node:url';
import { type GovernancePolicy, loadGovernancePolicyFile } from '@roster/governance';

/** policies/governance.yaml at the repository root: the tenants' governance defaults. */
export const GOVERNANCE_FILE = fileURLToPath(
  new URL('../../../policies/governance.yaml', import.meta.url),
);

let loading: Promise<GovernancePolicy> | undefined;

/** The governance defaults, read and checked once per process (an error names the path). */
export function governanceDefaults(): Promise<GovernancePolicy> {
  loading ??= loadGovernancePolicyFile(GOVERNANCE_FILE);
  return loading;
}
