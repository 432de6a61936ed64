// How a shadow deployment compares: its labels against the live decision of the same run step,
// and both against the reviewer's label where a person decided. Read-only.

import { type Pool, withTenant } from '@roster/db';
import { emptyShadowTally, type ShadowReport, shadowReport, tallyShadow } from '../rollout.js';

export async function shadowComparison(
  pool: Pool,
  tenantId: string,
  deploymentId: string,
): Promise<ShadowReport> {
  const rows = await withTenant(pool, tenantId, async ({ client }) => {
    const { rows } = await client.query<{
      shadow_label: string;
      live_label: string;
      human_label: string | null;
    }>(
      `SELECT s.result->>'label' AS shadow_label, d.label AS live_label, d.human_label
         FROM inference_requests s
         JOIN decisions d ON d.tenant_id = s.tenant_id AND d.run_id = s.run_id AND d.step_id = s.step_id
        WHERE s.tenant_id = $1 AND s.deployment_id = $2 AND s.shadow AND s.status = 'done'`,
      [tenantId, deploymentId],
    );
    return rows;
  });
  const tally = rows.reduce(
    (t, r) =>
      tallyShadow(t, {
        liveLabel: r.live_label,
        shadowLabel: r.shadow_label,
        humanLabel: r.human_label,
      }),
    emptyShadowTally,
  );
  return shadowReport(tally);
}
