import { createMongoAbility, type MongoAbility, type RawRuleOf } from '@casl/ability';
import { permittedFieldsOf } from '@casl/ability/extra';
import type { CompiledEntry, Policy, RuleTemplate } from './compile-policy.js';
import { AuthzError, ForbiddenError } from './errors.js';
import type { Placeholder } from './policy-schema.js';
import { type Action, isDeclared, type SubjectName } from './vocabulary.js';

export interface MemberActor {
  kind: 'member';
  tenantId: string;
  memberId: string;
  role: string;
  /** Review queues the member serves; default none. */
  reviewQueues?: readonly string[];
}

export interface ApiKeyActor {
  kind: 'apiKey';
  tenantId: string;
  keyId: string;
  scopes: readonly string[];
  /** The member who created the key, with their role as it is now. */
  creator: { memberId: string; role: string; reviewQueues?: readonly string[] };
}

export type Actor = MemberActor | ApiKeyActor;

/** A row checked against conditions; `__typename` names its subject (as GraphQL objects do). */
export type SubjectRecord = { readonly __typename: SubjectName } & Record<string, unknown>;
export type SubjectArg = SubjectName | SubjectRecord;

/** A copy of `row` tagged with its subject type, for instance-level checks. */
export function subjectRecord(type: SubjectName, row: Record<string, unknown>): SubjectRecord {
  return { ...row, __typename: type };
}

const typeOf = (subject: SubjectArg): SubjectName =>
  typeof subject === 'string' ? subject : subject.__typename;

/**
 * What an actor may do. A member has one layer (their role); an API key has two (its
 * scopes and its creator's role) and is allowed only what every layer allows.
 */
export class RosterAbility {
  constructor(
    readonly actor: Actor,
    /** CASL abilities that must all allow; exposed for adapters such as the SQL one. */
    readonly layers: readonly MongoAbility[],
    private readonly layerNames: readonly string[],
  ) {}

  /**
   * With a subject type, true when some record of that type may be allowed (conditions are
   * not evaluated); with a record, evaluates conditions. Undeclared operations are denied.
   */
  can(action: Action, subject: SubjectArg, field?: string): boolean {
    return this.denial(action, subject, field) === null;
  }

  cannot(action: Action, subject: SubjectArg, field?: string): boolean {
    return !this.can(action, subject, field);
  }

  /** Throws ForbiddenError (code FORBIDDEN) unless allowed. */
  assert(action: Action, subject: SubjectArg, field?: string): void {
    const reason = this.denial(action, subject, field);
    if (reason !== null) throw new ForbiddenError(action, typeOf(subject), field, reason);
  }

  /** The fields of `allFields` that every layer allows for `action` on `subject`. */
  permittedFields(action: Action, subject: SubjectArg, allFields: readonly string[]): string[] {
    if (!isDeclared(action, typeOf(subject))) return [];
    let fields = [...allFields];
    for (const layer of this.layers) {
      const allowed = new Set(
        permittedFieldsOf(layer, action, subject, {
          fieldsFrom: (r) => r.fields ?? [...allFields],
        }),
      );
      fields = fields.filter((f) => allowed.has(f));
    }
    return fields;
  }

  private denial(action: Action, subject: SubjectArg, field?: string): string | null {
    const type = typeOf(subject);
    if (!isDeclared(action, type)) return `${type} has no "${action}" operation`;
    for (const [i, layer] of this.layers.entries()) {
      if (layer.can(action, subject, field)) continue;
      const rule = layer.relevantRuleFor(action, subject, field);
      return rule?.inverted && rule.reason
        ? rule.reason
        : `${this.layerNames[i]} does not allow it`;
    }
    return null;
  }
}

/** Builds the ability of `actor` from a compiled policy. Pure; cheap enough per request. */
export function abilityFor(policy: Policy, actor: Actor): RosterAbility {
  if (actor.kind === 'member') {
    const values = placeholderValues(actor.tenantId, actor.memberId, actor.reviewQueues);
    return new RosterAbility(
      actor,
      [layer(roleOf(policy, actor.role), values)],
      [`role "${actor.role}"`],
    );
  }
  const { creator } = actor;
  const values = placeholderValues(actor.tenantId, creator.memberId, creator.reviewQueues);
  const scopes = actor.scopes.map((name) => {
    const scope = policy.scopes.get(name);
    if (scope === undefined) {
      throw new AuthzError(
        'UNKNOWN_SCOPE',
        `API key ${actor.keyId} has scope "${name}", which policies/roles.yaml does not define; reissue the key with scopes from: ${[...policy.scopes.keys()].join(', ')}.`,
        { keyId: actor.keyId, scope: name },
      );
    }
    return scope.templates;
  });
  return new RosterAbility(
    actor,
    [layerFrom(scopes.flat(), values), layer(roleOf(policy, creator.role), values)],
    [
      `the API key's scopes (${actor.scopes.join(', ') || 'none'})`,
      `the key creator's role "${creator.role}"`,
    ],
  );
}

function roleOf(policy: Policy, role: string): CompiledEntry {
  const entry = policy.roles.get(role);
  if (entry === undefined) {
    throw new AuthzError(
      'UNKNOWN_ROLE',
      `Role "${role}" is not defined in policies/roles.yaml; assign one of: ${[...policy.roles.keys()].join(', ')}.`,
      { role },
    );
  }
  return entry;
}

function placeholderValues(
  tenantId: string,
  memberId: string,
  reviewQueues: readonly string[] | undefined,
): Record<Placeholder, unknown> {
  return {
    '${tenant.id}': tenantId,
    '${actor.memberId}': memberId,
    '${actor.reviewQueues}': [...(reviewQueues ?? [])],
  };
}

const layer = (entry: CompiledEntry, values: Record<Placeholder, unknown>) =>
  layerFrom(entry.templates, values);

function layerFrom(
  templates: readonly RuleTemplate[],
  values: Record<Placeholder, unknown>,
): MongoAbility {
  const rules = templates.map((t) => ({
    ...t,
    ...(t.conditions === undefined ? {} : { conditions: fill(t.conditions, values) }),
  }));
  return createMongoAbility(rules as RawRuleOf<MongoAbility>[], {
    detectSubjectType: (o) => (o as SubjectRecord).__typename,
  });
}

// Placeholders are whole strings (validated at compile time), so a lookup suffices.
function fill(value: unknown, values: Record<string, unknown>): unknown {
  if (typeof value === 'string') return Object.hasOwn(values, value) ? values[value] : value;
  if (Array.isArray(value)) return value.map((v) => fill(v, values));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, values)]));
  }
  return value;
}
