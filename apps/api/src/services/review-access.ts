// Who may see and act on which review tasks. The reviewer role's rules name
// `${actor.reviewQueues}`: a member serves the queue named after their role and the queues they
// were added to. Under a delegation the delegate acts with the delegator's rights: they see the
// delegator's queues, and each action is checked against the delegator's ability.

import {
  type Actor,
  abilityFor,
  type Policy,
  type RosterAbility,
  subjectRecord,
} from '@roster/authz';
import type { PoolClient } from '@roster/db';
import { actingFor, isDelegationActive, type ReviewActor } from '@roster/governance';
import { currentDelegations, type DelegationRow, queuesOfMembers } from './review-store.js';
import type { ServiceActor } from './service-actor.js';

/** A review service's caller: the service actor plus what rebuilding its ability needs. */
export interface ReviewCaller extends ServiceActor {
  actor: Actor;
  policy: Policy;
}

export interface ReviewAccess {
  /** The person acting (an API key acts as its creator). */
  memberId: string;
  ownQueues: ReadonlySet<string>;
  /** Current delegations to or from the person. */
  delegations: DelegationRow[];
  queuesOf: (memberId: string) => ReadonlySet<string>;
  /** The caller's ability, reviewQueues filled with their own and their delegators' queues (lists). */
  ability: RosterAbility;
  /** The ability to check one action with: the caller's, or the delegator's they act for. */
  abilityFor: (who: ReviewActor) => RosterAbility;
}

type Client = Pick<PoolClient, 'query'>;

export async function reviewAccess(
  client: Client,
  caller: ReviewCaller,
  now: Date,
): Promise<ReviewAccess> {
  const memberId =
    caller.actor.kind === 'member' ? caller.actor.memberId : caller.actor.creator.memberId;
  const delegations = await currentDelegations(client, caller.tenantId, memberId, now);
  const delegators = [
    ...new Set(
      delegations
        .filter((d) => d.delegateId === memberId && isDelegationActive(d, now))
        .map((d) => d.delegatorId),
    ),
  ];
  const wholeDelegators = delegations
    .filter((d) => d.delegateId === memberId && d.taskId === null && isDelegationActive(d, now))
    .map((d) => d.delegatorId);
  const members = await queuesOfMembers(client, caller.tenantId, [memberId, ...delegators]);
  const queuesOf = (id: string): ReadonlySet<string> => members.get(id)?.queues ?? new Set();
  const ownQueues = queuesOf(memberId);
  const withQueues = (queues: Iterable<string>): Actor => {
    const reviewQueues = [...new Set(queues)];
    return caller.actor.kind === 'member'
      ? { ...caller.actor, reviewQueues }
      : { ...caller.actor, creator: { ...caller.actor.creator, reviewQueues } };
  };
  const own = abilityFor(caller.policy, withQueues(ownQueues));
  const listing = abilityFor(
    caller.policy,
    withQueues([...ownQueues, ...wholeDelegators.flatMap((d) => [...queuesOf(d)])]),
  );
  const delegatorAbility = (id: string) => {
    const member = members.get(id);
    if (!member) return abilityFor(caller.policy, withQueues([]));
    const reviewQueues = [...member.queues];
    // An API key keeps its scopes as a layer: a key may never do more than its scopes allow.
    return abilityFor(
      caller.policy,
      caller.actor.kind === 'member'
        ? {
            kind: 'member',
            tenantId: caller.tenantId,
            memberId: id,
            role: member.role,
            reviewQueues,
          }
        : { ...caller.actor, creator: { memberId: id, role: member.role, reviewQueues } },
    );
  };
  return {
    memberId,
    ownQueues,
    delegations,
    queuesOf,
    ability: listing,
    abilityFor: (who) => (who.onBehalfOf ? delegatorAbility(who.onBehalfOf) : own),
  };
}

/** The person acting on `task`, and whom they act for under a delegation. */
export function reviewActorFor(
  access: ReviewAccess,
  task: { id: string; queue: string; assigneeId: string | null },
  now: Date,
): ReviewActor {
  return {
    memberId: access.memberId,
    onBehalfOf: actingFor(
      task,
      access.memberId,
      access.ownQueues,
      access.delegations,
      access.queuesOf,
      now,
    ),
  };
}

/**
 * The task as the acting identity's ability sees it: a claim held by the delegate counts as the
 * delegator's when the delegate acts for them.
 */
export function taskSubject(
  tenantId: string,
  task: { queue: string },
  assigneeId: string | null,
  who: ReviewActor,
) {
  const principal = who.onBehalfOf ?? who.memberId;
  const mine = assigneeId !== null && (assigneeId === who.memberId || assigneeId === principal);
  return subjectRecord('ReviewTask', {
    tenantId,
    queue: task.queue,
    assigneeId: mine ? principal : assigneeId,
  });
}
