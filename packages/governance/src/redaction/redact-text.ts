import { type DetectOptions, detect } from './detect.js';
import type { PiiKind } from './kinds.js';

export interface RedactTextOptions extends DetectOptions {
  /** What replaces a detected value. Default: `[redacted:<kind>]`. */
  replacement?: (kind: PiiKind, original: string) => string;
}

export const defaultReplacement = (kind: PiiKind): string => `[redacted:${kind}]`;

/** Replaces every detected value in `text`. */
export function redactText(text: string, options: RedactTextOptions = {}): string {
  const found = detect(text, options);
  if (found.length === 0) return text;
  const replace = options.replacement ?? defaultReplacement;
  let out = '';
  let at = 0;
  for (const d of found) {
    out += text.slice(at, d.start) + replace(d.kind, text.slice(d.start, d.end));
    at = d.end;
  }
  return out + text.slice(at);
}
