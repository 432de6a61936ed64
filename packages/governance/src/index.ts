export { GovernanceError, type GovernanceErrorCode } from './errors.js';
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
export { defaultReplacement, type RedactTextOptions, redactText } from './redaction/redact-text.js';
export { createRedactor, type JsonValue, redactValue } from './redaction/redact-value.js';
export { compileMaskPaths, parseRedactionRules, type RedactionRules } from './redaction/rules.js';
