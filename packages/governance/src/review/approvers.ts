// Who may answer an approval step that names its approvers (packages/core ApprovalStepSchema):
// `approvers.members` lists member ids or e-mail addresses; with such a list only those members,
// or holders of `approvers.role`, may approve or reject. A step naming only a role leaves it to
// the queue named after the role (and the members an admin adds to it).

import { GovernanceError } from '../errors.js';

export interface StepApprovers {
  role?: string | null;
  members?: readonly string[] | null;
}

/** The person whose right to decide counts: the caller, or the member they act for. */
export interface ApproverIdentity {
  memberId: string;
  email: string | null;
  role: string | null;
}

/** Whether `person` is listed by id or e-mail address (any case), or holds the step's role. */
export function isListedApprover(approvers: StepApprovers, person: ApproverIdentity): boolean {
  if (approvers.role && person.role === approvers.role) return true;
  const email = person.email?.toLowerCase() ?? null;
  return (approvers.members ?? []).some((entry) =>
    entry.includes('@')
      ? email !== null && entry.toLowerCase() === email
      : entry === person.memberId,
  );
}

/** Refuses someone an approval step's member list leaves out; a step without a list refuses no one. */
export function assertListedApprover(
  taskId: string,
  approvers: StepApprovers | null,
  person: ApproverIdentity,
): void {
  if (!approvers?.members || approvers.members.length === 0) return;
  if (isListedApprover(approvers, person)) return;
  throw new GovernanceError(
    'REVIEW_NOT_APPROVER',
    `Review task ${taskId} is an approval only its listed approvers${approvers.role ? ` or members with the role "${approvers.role}"` : ''} may decide: ask one of them, or change the step's approvers in a new workflow version.`,
    { reason: 'REVIEW_NOT_APPROVER' },
  );
}
