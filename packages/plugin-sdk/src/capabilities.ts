/**
 * What a plugin declares it may reach. The host grants nothing that is not declared here,
 * and an installation may grant less (its scopes).
 */
export interface HttpCapabilityDeclaration {
  /** Exact host names (no scheme, no port), e.g. `api.example.com`. No wildcards. */
  readonly hosts: readonly string[];
  /**
   * Connection fields holding a URL whose host is also allowed (for self-hosted or
   * configurable base URLs, e.g. `['baseUrl']`). The tenant admin who enters the URL is the
   * one who consents; the host's egress policy (private ranges, allow-list) still applies.
   * Default: none.
   */
  readonly hostsFromConnection?: readonly string[];
}

export interface SmtpCapabilityDeclaration {
  /** Shown to the tenant admin when granting the scope. */
  readonly purpose?: string;
}

export interface SqlCapabilityDeclaration {
  readonly purpose?: string;
}

/** Per-installation key/value state. */
export interface KvCapabilityDeclaration {
  readonly purpose?: string;
}

export interface CapabilityDeclarations {
  readonly http?: HttpCapabilityDeclaration;
  readonly smtp?: SmtpCapabilityDeclaration;
  readonly sql?: SqlCapabilityDeclaration;
  readonly kv?: KvCapabilityDeclaration;
}

export type CapabilityName = 'http' | 'smtp' | 'sql' | 'kv';

export const CAPABILITY_NAMES: readonly CapabilityName[] = ['http', 'smtp', 'sql', 'kv'];

export function declaredCapabilityNames(declarations: CapabilityDeclarations): CapabilityName[] {
  return CAPABILITY_NAMES.filter((name) => declarations[name] !== undefined);
}
