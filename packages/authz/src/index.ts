export {
  type Actor,
  type ApiKeyActor,
  abilityFor,
  type MemberActor,
  RosterAbility,
  type SubjectArg,
  type SubjectRecord,
  subjectRecord,
} from './ability.js';
export {
  type CompiledEntry,
  compilePolicy,
  type Policy,
  type RuleTemplate,
} from './compile-policy.js';
export {
  AuthzError,
  type AuthzErrorCode,
  ForbiddenError,
  PolicyInvalidError,
  type PolicyIssue,
} from './errors.js';
export { loadPolicyFile } from './load-policy.js';
export {
  type Conditions,
  type ConditionValue,
  PLACEHOLDERS,
  type Placeholder,
  type PolicyEntry,
  type PolicyRule,
} from './policy-schema.js';
export {
  accessibleSqlCondition,
  type SqlCondition,
  type SqlConditionOptions,
} from './sql-condition.js';
export {
  ACTIONS,
  type Action,
  declaredOperations,
  isAction,
  isDeclared,
  isSubjectName,
  type RuleAction,
  SUBJECT_ACTIONS,
  SUBJECTS,
  type SubjectName,
  TENANT_KEY,
} from './vocabulary.js';
