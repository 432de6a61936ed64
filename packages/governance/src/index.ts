export { type ErasureCertificate, eraseSubjectData } from './erasure/erase-subject.js';
export {
  createPersonalDataVault,
  type OpenOptions,
  type PersonalDataVault,
  type SealOptions,
} from './erasure/personal-data.js';
export { ERASED, hasSealedValues } from './erasure/sealed-tokens.js';
export { normaliseEmail, subjectLookupHash } from './erasure/subject-keys.js';
export { GovernanceError, type GovernanceErrorCode } from './errors.js';
export { actionMatches } from './policy/action-patterns.js';
export {
  approvalRuleFor,
  CONNECTOR_APPROVAL_GATE,
  type ConnectorApprovalAnswer,
  type ConnectorApprovalData,
  decideConnectorApproval,
  governConnectorExecutor,
  isExternalConnector,
  redactionRulesOf,
} from './policy/connector-gate.js';
export { DEFAULT_GOVERNANCE_POLICY } from './policy/defaults.js';
export {
  applyOverride,
  loadGovernancePolicyFile,
  mergePolicy,
  type PolicyIssue,
  parseGovernancePolicy,
} from './policy/document.js';
export { type IsoDuration, parseIsoDuration, subtractIsoDuration } from './policy/duration.js';
export {
  type ApprovalRule,
  type GovernancePolicy,
  type GovernancePolicyOverride,
  governancePolicySchema,
  RETENTION_DATA_CLASSES,
  type RedactionPolicy,
  type RetentionDataClass,
  type RetentionPolicy,
  type ThresholdOverride,
} from './policy/schema.js';
export {
  type EffectiveGovernancePolicy,
  effectiveGovernancePolicy,
  effectiveGovernancePolicyIn,
  type GovernancePolicyChange,
  type GovernancePolicyVersion,
  governancePolicyVersions,
  type PolicyReadOptions,
  type PolicyUpdateOptions,
  policyChangedData,
  type UpdateGovernancePolicyInput,
  updateGovernancePolicy,
} from './policy/store.js';
export { type DecisionScope, resolveThreshold, thresholdsForScope } from './policy/thresholds.js';
export { elevenProofValid, luhnValid, nirKeyValid } from './redaction/checksums.js';
export { type DetectOptions, detect } from './redaction/detect.js';
export { DEFAULT_PHONE_REGIONS } from './redaction/detect-phone.js';
export {
  type Detection,
  isPiiKind,
  NATIONAL_ID_KINDS,
  PII_KINDS,
  type PiiKind,
} from './redaction/kinds.js';
export {
  createAuditEventRedactor,
  createReportSummaryRedactor,
  redactAuditEvents,
} from './redaction/redact-audit.js';
export { defaultReplacement, type RedactTextOptions, redactText } from './redaction/redact-text.js';
export { createRedactor, type JsonValue, redactValue } from './redaction/redact-value.js';
export { compileMaskPaths, parseRedactionRules, type RedactionRules } from './redaction/rules.js';
export {
  DEFAULT_RETENTION_BATCH,
  type RetentionCounts,
  type RetentionSweepOptions,
  sweepRetention,
  sweepTenantRetention,
  type TenantSweep,
} from './retention/retention-sweep.js';
export {
  type ApproverIdentity,
  assertListedApprover,
  isListedApprover,
  type StepApprovers,
} from './review/approvers.js';
export {
  addBusinessMinutes,
  type BusinessCalendar,
  DEFAULT_BUSINESS_CALENDAR,
  parseBusinessCalendar,
} from './review/business-hours.js';
export {
  actingFor,
  type Delegation,
  isActive as isDelegationActive,
  MAX_DELEGATION_DAYS,
  validateDelegation,
} from './review/delegation.js';
export { isBreached, planEscalation, type QueueSla, slaDueAt } from './review/sla.js';
export {
  type Approval,
  activeAssignee,
  assertClaimable,
  assertReleasable,
  planApproval,
  planClaim,
  type ReviewActor,
  type ReviewOutcome,
  type ReviewTaskState,
  requiredApprovals,
  validateCorrection,
} from './review/task-rules.js';
