// Test fixtures shared by the authz tests: the real policy file and sample records that
// vary every attribute a policy condition looks at.
import { fileURLToPath } from 'node:url';
import {
  type MemberActor,
  type PolicyRule,
  type SubjectName,
  type SubjectRecord,
  subjectRecord,
  TENANT_KEY,
} from '../src/index.js';

export const ROLES_YAML = fileURLToPath(new URL('../../../policies/roles.yaml', import.meta.url));

export const TENANT = 'tenant-a';
export const OTHER_TENANT = 'tenant-b';
export const ME = 'member-me';
export const SOMEONE = 'member-other';
export const MY_QUEUE = 'invoices';

export function member(role: string, memberId = ME): MemberActor {
  return { kind: 'member', tenantId: TENANT, memberId, role, reviewQueues: [MY_QUEUE] };
}

/** Every combination of the attributes conditions use, in the given tenant. */
export function recordsOf(subject: SubjectName, tenantId: string): SubjectRecord[] {
  const out: SubjectRecord[] = [];
  for (const createdBy of [ME, SOMEONE]) {
    for (const queue of [MY_QUEUE, 'other-queue']) {
      for (const assigneeId of [null, ME, SOMEONE]) {
        for (const role of ['owner', 'viewer']) {
          out.push(
            subjectRecord(subject, {
              id: subject === 'Tenant' ? tenantId : `${subject}-1`,
              ...(TENANT_KEY[subject] === 'tenantId' ? { tenantId } : {}),
              createdBy,
              queue,
              assigneeId,
              role,
            }),
          );
        }
      }
    }
  }
  return out;
}

/** Whether any allowing rule of `rules` names the action (or manage) and the subject: read from the YAML data, not from CASL. */
export function rulesMention(
  rules: readonly PolicyRule[],
  action: string,
  subject: SubjectName,
  field?: string,
): boolean {
  return rules.some(
    (r) =>
      !r.inverted &&
      r.subjects.includes(subject) &&
      (r.actions.includes('manage') || (r.actions as string[]).includes(action)) &&
      (field === undefined || r.fields === undefined || r.fields.includes(field)),
  );
}

/** A small seeded PRNG (mulberry32) so property tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
