/** Values shorter than this are not redacted (they would blank ordinary words like "on"). */
const MIN_REDACTED_LENGTH = 4;

/**
 * Replaces every secret value that appears in `text` with `[redacted]`: a plugin's error message
 * may echo its credentials, and that message travels to step results, logs and GraphQL errors.
 */
export function redactSecrets(text: string, secrets: Readonly<Record<string, string>>): string {
  let out = text;
  const values = Object.values(secrets)
    .filter((v) => v.length >= MIN_REDACTED_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const value of values) out = out.split(value).join('[redacted]');
  return out;
}
