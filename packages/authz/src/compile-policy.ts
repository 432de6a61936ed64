import { parseDocument } from 'yaml';
import { AuthzError } from './errors.js';
import {
  type Conditions,
  type PolicyDocument,
  type PolicyEntry,
  type PolicyRule,
  validatePolicyDocument,
} from './policy-schema.js';
import { isDeclared, type RuleAction, type SubjectName, TENANT_KEY } from './vocabulary.js';

/** One CASL rule for one subject, still holding placeholders (filled per actor). */
export interface RuleTemplate {
  action: RuleAction[];
  subject: SubjectName;
  conditions?: Conditions;
  fields?: string[];
  inverted: boolean;
  reason?: string;
}

export interface CompiledEntry extends PolicyEntry {
  /** In YAML order: a later rule wins over an earlier one (CASL's precedence). */
  readonly templates: readonly RuleTemplate[];
}

export interface Policy {
  readonly roles: ReadonlyMap<string, CompiledEntry>;
  readonly scopes: ReadonlyMap<string, CompiledEntry>;
}

/** Parses, validates and compiles the text of policies/roles.yaml. Pure. */
export function compilePolicy(yamlText: string): Policy {
  const doc = parseDocument(yamlText, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const where = first?.linePos?.[0];
    throw new AuthzError(
      'POLICY_YAML_SYNTAX',
      `The policy file is not valid YAML${where ? ` (line ${where.line}, column ${where.col})` : ''}: ${first?.message ?? 'unknown error'}`,
      { errors: doc.errors.map((e) => e.message) },
    );
  }
  return compileDocument(validatePolicyDocument(doc.toJS()));
}

function compileDocument(doc: PolicyDocument): Policy {
  const compile = (e: PolicyEntry): [string, CompiledEntry] => [
    e.name,
    { ...e, templates: e.rules.flatMap(templatesOf) },
  ];
  return {
    roles: new Map(doc.roles.map(compile)),
    scopes: new Map(doc.scopes.map(compile)),
  };
}

// One template per subject because the tenant attribute differs by subject (Tenant.id,
// x.tenantId, none for the global Plugin catalog). Allowing rules always get the tenant
// condition; denying rules are kept as written so an unconditional `cannot` stays absolute.
function templatesOf(rule: PolicyRule): RuleTemplate[] {
  return rule.subjects.flatMap((subject) => {
    const action = rule.actions.filter((a) => a === 'manage' || isDeclared(a, subject));
    if (action.length === 0) return [];
    const tenantKey = TENANT_KEY[subject];
    const conditions =
      rule.inverted || tenantKey === null
        ? rule.conditions
        : { ...rule.conditions, [tenantKey]: `\${tenant.id}` };
    return [
      {
        action,
        subject,
        inverted: rule.inverted,
        ...(conditions === undefined ? {} : { conditions }),
        ...(rule.fields === undefined ? {} : { fields: rule.fields }),
        ...(rule.reason === undefined ? {} : { reason: rule.reason }),
      },
    ];
  });
}
