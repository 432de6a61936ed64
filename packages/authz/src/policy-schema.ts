// Validates the parsed roles.yaml by hand (no schema library in this package) so every
// problem is reported with its path, all at once, before anything is compiled.
import { PolicyInvalidError, type PolicyIssue } from './errors.js';
import {
  ACTIONS,
  isDeclared,
  isSubjectName,
  type RuleAction,
  SUBJECT_ACTIONS,
  SUBJECTS,
  type SubjectName,
  TENANT_KEY,
} from './vocabulary.js';

export type Scalar = string | number | boolean | null;
/** A field's condition: a value (equality) or one operator. Strings may be placeholders. */
export type ConditionValue =
  | Scalar
  | { $eq: Scalar }
  | { $ne: Scalar }
  | { $in: Scalar[] | string }
  | { $nin: Scalar[] | string };
export type Conditions = Record<string, ConditionValue>;

/** Values filled in per actor when an ability is built. A `list` placeholder fits only `$in`/`$nin`. */
export const PLACEHOLDERS = {
  '${tenant.id}': 'scalar',
  '${actor.memberId}': 'scalar',
  '${actor.reviewQueues}': 'list',
} as const;
export type Placeholder = keyof typeof PLACEHOLDERS;

export interface PolicyRule {
  actions: RuleAction[];
  /** Subjects after expanding `all`. */
  subjects: SubjectName[];
  conditions?: Conditions;
  fields?: string[];
  inverted: boolean;
  reason?: string;
}

export interface PolicyEntry {
  name: string;
  description: string;
  rules: PolicyRule[];
}

export interface PolicyDocument {
  roles: PolicyEntry[];
  scopes: PolicyEntry[];
}

const ROLE_NAME = /^[a-z][a-z0-9-]*$/;
const SCOPE_NAME = /^[a-z][a-z-]*:[a-z][a-z-]*$/;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const RULE_KEYS = ['action', 'subject', 'conditions', 'fields', 'inverted', 'reason'];
const OPERATORS = ['$eq', '$ne', '$in', '$nin'];

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isScalar = (v: unknown): v is Scalar =>
  v === null || ['string', 'number', 'boolean'].includes(typeof v);

class Issues {
  readonly list: PolicyIssue[] = [];
  add(path: string, message: string): void {
    this.list.push({ path, message });
  }
}

/** Checks the YAML's data shape and vocabulary; throws PolicyInvalidError naming every bad path. */
export function validatePolicyDocument(data: unknown): PolicyDocument {
  const issues = new Issues();
  const doc: PolicyDocument = { roles: [], scopes: [] };
  if (!isObj(data)) {
    issues.add('(root)', 'expected a mapping with `version`, `roles` and `scopes`');
    throw new PolicyInvalidError(issues.list);
  }
  for (const key of Object.keys(data)) {
    if (!['version', 'roles', 'scopes'].includes(key)) {
      issues.add(key, 'unknown top-level key; expected `version`, `roles` or `scopes`');
    }
  }
  if (data.version !== 1) issues.add('version', 'expected `version: 1`');
  doc.roles = entries(data.roles, 'roles', ROLE_NAME, 'a lower-case name like `builder`', issues);
  doc.scopes = entries(data.scopes, 'scopes', SCOPE_NAME, 'a name like `runs:read`', issues);

  if (issues.list.length > 0) throw new PolicyInvalidError(issues.list);
  return doc;
}

function entries(
  value: unknown,
  path: string,
  namePattern: RegExp,
  nameHint: string,
  issues: Issues,
): PolicyEntry[] {
  if (!isObj(value) || Object.keys(value).length === 0) {
    issues.add(path, 'expected a non-empty mapping of names to { description, rules }');
    return [];
  }
  const out: PolicyEntry[] = [];
  for (const [name, entry] of Object.entries(value)) {
    const at = `${path}.${name}`;
    if (!namePattern.test(name)) issues.add(at, `invalid name; expected ${nameHint}`);
    if (!isObj(entry)) {
      issues.add(at, 'expected a mapping with `description` and `rules`');
      continue;
    }
    for (const key of Object.keys(entry)) {
      if (key !== 'description' && key !== 'rules') {
        issues.add(`${at}.${key}`, 'unknown key; expected `description` or `rules`');
      }
    }
    const { description, rules } = entry;
    if (typeof description !== 'string' || description.trim() === '' || /\n/.test(description)) {
      issues.add(`${at}.description`, 'expected a one-line, non-empty description');
    }
    if (!Array.isArray(rules) || rules.length === 0) {
      issues.add(`${at}.rules`, 'expected a non-empty list of rules');
      continue;
    }
    const parsed = rules.map((r, i) => rule(r, `${at}.rules[${i}]`, issues));
    // Scopes only grant, so a key's scopes combine by plain union whatever their order.
    for (const [i, r] of rules.entries()) {
      if (path === 'scopes' && isObj(r) && r.inverted === true) {
        issues.add(`${at}.rules[${i}].inverted`, 'scopes only grant; remove `inverted`');
      }
    }
    out.push({
      name,
      description: String(description),
      rules: parsed.filter((r): r is PolicyRule => r !== null),
    });
  }
  return out;
}

function stringList(value: unknown): string[] | null {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    return value;
  }
  return null;
}

function rule(value: unknown, at: string, issues: Issues): PolicyRule | null {
  if (!isObj(value)) {
    issues.add(at, 'expected a mapping with `action` and `subject`');
    return null;
  }
  const before = issues.list.length;
  for (const key of Object.keys(value)) {
    if (!RULE_KEYS.includes(key)) {
      issues.add(`${at}.${key}`, `unknown key; expected one of ${RULE_KEYS.join(', ')}`);
    }
  }
  const actions = stringList(value.action);
  if (actions === null) issues.add(`${at}.action`, 'expected an action or a list of actions');
  const badActions = (actions ?? []).filter((a) => !(ACTIONS as readonly string[]).includes(a));
  for (const a of badActions) {
    issues.add(`${at}.action`, `unknown action "${a}"; expected one of ${ACTIONS.join(', ')}`);
  }
  const rawSubjects = stringList(value.subject);
  if (rawSubjects === null) issues.add(`${at}.subject`, 'expected a subject or a list of subjects');
  const all = rawSubjects?.includes('all') ?? false;
  const subjects: SubjectName[] = [];
  for (const s of rawSubjects ?? []) {
    if (s === 'all') continue;
    if (isSubjectName(s)) subjects.push(s);
    else
      issues.add(
        `${at}.subject`,
        `unknown subject "${s}"; expected \`all\` or one of ${SUBJECTS.join(', ')}`,
      );
  }
  if (all && subjects.length > 0) {
    issues.add(`${at}.subject`, '`all` already covers every subject; list nothing beside it');
  }
  if (actions !== null && badActions.length === 0) {
    for (const a of actions) {
      if (a === 'manage') continue;
      if (all && !SUBJECTS.some((s) => isDeclared(a, s))) {
        issues.add(`${at}.action`, `no subject declares "${a}"`);
      }
      for (const s of subjects) {
        if (!isDeclared(a, s)) {
          issues.add(
            `${at}.action`,
            `"${a}" does not apply to ${s}; ${s} takes ${SUBJECT_ACTIONS[s].join(', ')} (or manage)`,
          );
        }
      }
    }
  }
  if (value.inverted !== undefined && typeof value.inverted !== 'boolean') {
    issues.add(`${at}.inverted`, 'expected true or false');
  }
  if (value.reason !== undefined && typeof value.reason !== 'string') {
    issues.add(`${at}.reason`, 'expected a string');
  }
  if (
    value.fields !== undefined &&
    (stringList(value.fields) === null ||
      !(stringList(value.fields) ?? []).every((f) => FIELD_NAME.test(f)))
  ) {
    issues.add(`${at}.fields`, 'expected a non-empty list of field names like `email`');
  }
  const ruleSubjects = all ? SUBJECTS : subjects;
  const conditions =
    value.conditions === undefined
      ? undefined
      : conditionsOf(value.conditions, `${at}.conditions`, ruleSubjects, issues);
  if (issues.list.length > before) return null;
  return {
    actions: actions as RuleAction[],
    subjects: ruleSubjects,
    inverted: value.inverted === true,
    ...(conditions === undefined ? {} : { conditions }),
    ...(value.fields === undefined ? {} : { fields: stringList(value.fields) ?? [] }),
    ...(typeof value.reason === 'string' ? { reason: value.reason } : {}),
  };
}

function conditionsOf(
  value: unknown,
  at: string,
  subjects: readonly SubjectName[],
  issues: Issues,
): Conditions | undefined {
  if (!isObj(value) || Object.keys(value).length === 0) {
    issues.add(at, 'expected a non-empty mapping of field names to values');
    return undefined;
  }
  for (const [field, operand] of Object.entries(value)) {
    const fat = `${at}.${field}`;
    if (!FIELD_NAME.test(field)) {
      issues.add(fat, 'expected a plain field name (nested paths and $and/$or are not supported)');
      continue;
    }
    if (subjects.some((s) => TENANT_KEY[s] === field) && operand !== `\${tenant.id}`) {
      issues.add(fat, 'the tenant condition is added automatically; remove this key');
      continue;
    }
    if (isObj(operand)) {
      const keys = Object.keys(operand);
      const op = keys[0];
      if (keys.length !== 1 || op === undefined || !OPERATORS.includes(op)) {
        issues.add(fat, `expected a value or one operator of ${OPERATORS.join(', ')}`);
        continue;
      }
      const arg = operand[op];
      if (op === '$in' || op === '$nin') {
        if (typeof arg === 'string') placeholder(arg, 'list', `${fat}.${op}`, issues);
        else if (!Array.isArray(arg) || !arg.every((v) => isScalar(v) && v !== null)) {
          issues.add(`${fat}.${op}`, 'expected a list of non-null values or a list placeholder');
        } else {
          for (const [i, v] of arg.entries()) scalar(v, `${fat}.${op}[${i}]`, issues);
        }
      } else scalar(arg, `${fat}.${op}`, issues);
    } else scalar(operand, fat, issues);
  }
  return value as Conditions;
}

function scalar(value: unknown, at: string, issues: Issues): void {
  if (!isScalar(value)) issues.add(at, 'expected a string, number, boolean or null');
  else if (typeof value === 'string') placeholder(value, 'scalar', at, issues);
}

function placeholder(value: string, kind: 'scalar' | 'list', at: string, issues: Issues): void {
  if (!value.includes(`\${`)) {
    if (kind === 'list')
      issues.add(at, `expected a list or a list placeholder like \${actor.reviewQueues}`);
    return;
  }
  const known = (PLACEHOLDERS as Record<string, string>)[value];
  if (known === undefined) {
    issues.add(
      at,
      `unknown placeholder ${value}; expected one of ${Object.keys(PLACEHOLDERS).join(', ')}`,
    );
  } else if (known !== kind) {
    issues.add(
      at,
      `${value} is a ${known}; use it ${known === 'list' ? 'under $in or $nin' : 'as a single value'}`,
    );
  }
}
