export {
  type ApiKeyCreatedData,
  type ApiKeyRevokedData,
  AUDIT_ACTIONS,
  type AuditActionData,
  type AuditActionName,
  actionDraft,
  type DecisionOutcome,
  type DecisionRecordedData,
  isKnownAction,
  type MemberRoleChangedData,
  type PermissionChangedData,
  type PolicyChangedData,
  type ReviewDecidedData,
  type ReviewOutcome,
  readActionData,
} from './actions.js';
export { canonicalize, type JsonValue } from './canonical-json.js';
export {
  appendToChain,
  type ChainHead,
  checkLink,
  GENESIS_HASH,
  genesisHead,
  hashEvent,
  headOf,
  type LinkProblem,
} from './chain.js';
export { CSV_COLUMNS, type CsvOptions, csvRow, writeCsv } from './csv.js';
export {
  type AuditDigest,
  type DigestCheck,
  type DigestFields,
  digestHash,
  signDigest,
  verifyDigest,
} from './digest.js';
export { AuditError, type AuditErrorCode } from './errors.js';
export {
  ACTOR_TYPES,
  type ActorType,
  type AuditActor,
  type AuditEvent,
  type AuditEventBody,
  type AuditEventDraft,
  type AuditSubject,
} from './event.js';
export { EXPORT_FORMAT, EXPORT_VERSION, type ExportHeader } from './export-header.js';
export { readVerifiedEvents, type VerifyingReader } from './export-reader.js';
export {
  ExportVerifier,
  type ExportVerifierOptions,
  type VerifiedExport,
  type VerifyFailure,
  type VerifyFailureCode,
  type VerifyResult,
  verifyExport,
} from './export-verifier.js';
export { type ExportInput, eventLine, writeExport } from './export-writer.js';
export {
  createPublicKeyRing,
  generateSigningKeyPair,
  keyIdOf,
  type PublicKeyInput,
  type PublicKeyRing,
  type SigningKeyPair,
} from './keys.js';
export { splitLines, withNewlines } from './lines.js';
export {
  type AuditReportInput,
  type AuditReportOptions,
  REPORT_SECTIONS,
  renderAuditReport,
} from './report-pdf.js';
export { type SummarizeResult, summarizeExport } from './report-source.js';
export {
  ACTIVITY_CATEGORIES,
  type ActionCount,
  type ActivityBucket,
  type ActivityCategory,
  AuditReportBuilder,
  type AuditReportSummary,
  type ChangeRow,
  type DecisionRow,
  type ReportSummaryOptions,
  type ReviewSummary,
} from './report-summary.js';
export { type SampleExportOptions, sampleExportLines } from './sample-export.js';
export { type AuditRequestContext, systemAuditContext } from './store/audit-context.js';
export {
  lastDigest,
  type SignDigestOptions,
  type StoredDigest,
  signAllTenantDigests,
  signAuditDigest,
  tenantIdForSlug,
} from './store/digests.js';
export {
  AUDIT_EXPORT_CONTENT_TYPES,
  AUDIT_EXPORT_TASK,
  AUDIT_SEAL_CRONTAB,
  AUDIT_SEAL_TASK,
  type AuditExportFormat,
  type ExportRedaction,
  produceAuditExport,
  runAuditSeal,
} from './store/export-jobs.js';
export { type ExportAuditOptions, exportAudit } from './store/export-store.js';
export { type AuditRecord, recordAudit } from './store/record-event.js';
export { chainHead, type SealOptions, sealAuditEvents } from './store/sealer.js';
