// RFC 822 / MIME parsing into the few fields the triage model may use. Only the Subject,
// From and Content-Type headers are kept: the other header names in the demo corpus reveal
// how it was collected, and a model must not learn that.

import { htmlToText } from './html-text.js';
import {
  byteStringToBytes,
  bytesToByteString,
  decodeBase64,
  decodeCharset,
  decodeHeaderValue,
  decodeQuotedPrintable,
} from './mime-decode.js';

export interface ParsedEmail {
  /** Decoded Subject header ('' when absent). */
  subject: string;
  /** Decoded From header ('' when absent). */
  from: string;
  /** Top-level media type, lower case, e.g. `multipart/alternative` (`text/plain` by default). */
  contentType: string;
  /** Top-level charset parameter, lower case ('' when absent). */
  charset: string;
  /** Readable body text: text/plain parts, HTML converted to text, nested messages included. */
  text: string;
  /** Media types of the leaf parts, in order (e.g. `text/plain`, `image/gif`). */
  parts: string[];
  /** Link and image targets found in HTML parts. */
  links: string[];
}

interface Headers {
  /** Lower-case name to the first raw value (a byte string, unfolded). */
  values: Map<string, string>;
}

interface MediaType {
  type: string;
  params: Map<string, string>;
}

/** Options for {@link parseEmail}. */
export interface ParseEmailOptions {
  /** Stop adding body text past this many characters (default 100,000). */
  maxTextChars?: number;
  /** Deepest multipart / message nesting followed (default 8). */
  maxDepth?: number;
}

function splitHead(raw: string): { head: string; body: string } {
  const m = /\r?\n\r?\n/.exec(raw);
  if (!m) return { head: raw, body: '' };
  return { head: raw.slice(0, m.index), body: raw.slice(m.index + m[0].length) };
}

function parseHeaders(head: string): Headers {
  const values = new Map<string, string>();
  let name = '';
  let value = '';
  const flush = () => {
    if (name && !values.has(name)) values.set(name, value.trim());
    name = '';
    value = '';
  };
  for (const line of head.split(/\r?\n/)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && name) {
      value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    // Lines without a colon (the mbox "From " envelope line) are not headers.
    if (colon <= 0 || /\s/.test(line.slice(0, colon))) continue;
    name = line.slice(0, colon).toLowerCase();
    value = line.slice(colon + 1);
  }
  flush();
  return { values };
}

/** Parses `type/subtype; name=value; name="quoted value"` (lower-cases type and names). */
export function parseMediaType(value: string | undefined, fallback = 'text/plain'): MediaType {
  const params = new Map<string, string>();
  if (!value) return { type: fallback, params };
  const [first = '', ...rest] = splitParams(value);
  const type = first.trim().toLowerCase();
  for (const item of rest) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const key = item.slice(0, eq).trim().toLowerCase();
    let v = item.slice(eq + 1).trim();
    if (v.startsWith('"')) v = v.slice(1, v.endsWith('"') && v.length > 1 ? -1 : undefined);
    if (!params.has(key)) params.set(key, v.replace(/\\(.)/g, '$1'));
  }
  return { type: /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : fallback, params };
}

/** Splits on `;` outside double quotes. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && quoted) {
      cur += c + (value[i + 1] ?? '');
      i++;
    } else if (c === '"') {
      quoted = !quoted;
      cur += c;
    } else if (c === ';' && !quoted) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function decodeTransfer(body: string, encoding: string | undefined): Uint8Array | string {
  const enc = (encoding ?? '').trim().toLowerCase();
  if (enc === 'base64') return decodeBase64(body);
  if (enc === 'quoted-printable') return decodeQuotedPrintable(body);
  return body; // 7bit, 8bit, binary, or unknown: the bytes as they are
}

function splitMultipart(body: string, boundary: string): string[] {
  const parts: string[] = [];
  const delimiter = `--${boundary}`;
  const lines = body.split(/\n/);
  let current: string[] | null = null;
  for (const rawLine of lines) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith(delimiter)) {
      const rest = line.slice(delimiter.length).trimEnd();
      if (rest === '' || rest === '--') {
        if (current) parts.push(current.join('\n'));
        current = rest === '--' ? null : [];
        if (rest === '--') break;
        continue;
      }
    }
    current?.push(line);
  }
  // An unterminated last part (truncated mail) still counts.
  if (current && current.length > 0) parts.push(current.join('\n'));
  return parts;
}

interface Collected {
  texts: string[];
  parts: string[];
  links: string[];
  chars: number;
}

function walkEntity(
  head: Headers,
  body: string,
  depth: number,
  out: Collected,
  limits: Required<ParseEmailOptions>,
  defaultType = 'text/plain',
): void {
  if (out.chars >= limits.maxTextChars) return;
  const media = parseMediaType(head.values.get('content-type'), defaultType);
  const boundary = media.params.get('boundary');
  if (media.type.startsWith('multipart/') && boundary && depth < limits.maxDepth) {
    const children = splitMultipart(body, boundary).map((part) => {
      // A part that starts with a blank line has no headers.
      if (/^\r?\n/.test(part)) return { head: parseHeaders(''), body: part.replace(/^\r?\n/, '') };
      const split = splitHead(part);
      return { head: parseHeaders(split.head), body: split.body };
    });
    const childDefault = media.type === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    if (media.type === 'multipart/alternative') {
      // A reader sees one alternative: keep the one with the most text (spam often pairs
      // rich HTML with a one-line plain part), but the links of all of them.
      let best: Collected | null = null;
      for (const c of children) {
        const alt: Collected = { texts: [], parts: [], links: [], chars: out.chars };
        walkEntity(c.head, c.body, depth + 1, alt, limits);
        out.parts.push(...alt.parts);
        out.links.push(...alt.links);
        if (!best || alt.chars > best.chars) best = alt;
      }
      if (best) {
        out.texts.push(...best.texts);
        out.chars = best.chars;
      }
      return;
    }
    for (const c of children) walkEntity(c.head, c.body, depth + 1, out, limits, childDefault);
    return;
  }
  if (media.type === 'message/rfc822' && depth < limits.maxDepth) {
    const inner = splitHead(body);
    const innerHead = parseHeaders(inner.head);
    const subject = decodeHeaderValue(innerHead.values.get('subject') ?? '');
    out.parts.push(media.type);
    if (subject) pushText(out, subject, limits);
    walkEntity(innerHead, inner.body, depth + 1, out, limits);
    return;
  }
  out.parts.push(media.type);
  if (!media.type.startsWith('text/')) return; // images, attachments: their type is enough
  const decoded = decodeTransfer(body, head.values.get('content-transfer-encoding'));
  const bytes = typeof decoded === 'string' ? byteStringToBytes(decoded) : decoded;
  const text = decodeCharset(bytes, media.params.get('charset'));
  if (media.type === 'text/html' || (media.type === 'text/plain' && looksLikeHtml(text))) {
    const html = htmlToText(text);
    out.links.push(...html.links);
    pushText(out, html.text, limits);
  } else {
    pushText(out, text, limits);
  }
}

function looksLikeHtml(text: string): boolean {
  return /<\s*(html|body|table|font|a\s+href|p|div|br)\b/i.test(text.slice(0, 2000));
}

function pushText(out: Collected, text: string, limits: Required<ParseEmailOptions>): void {
  const room = limits.maxTextChars - out.chars;
  if (room <= 0) return;
  const t = text.length > room ? text.slice(0, room) : text;
  out.texts.push(t);
  out.chars += t.length;
}

/**
 * Parses a raw RFC 822 message. Give bytes where you have them (charsets are then decoded
 * exactly); a string is taken as already-decoded text and encoded as UTF-8 first.
 */
export function parseEmail(raw: Uint8Array | string, options: ParseEmailOptions = {}): ParsedEmail {
  const limits: Required<ParseEmailOptions> = {
    maxTextChars: options.maxTextChars ?? 100_000,
    maxDepth: options.maxDepth ?? 8,
  };
  const bytes = typeof raw === 'string' ? new TextEncoder().encode(raw) : raw;
  const { head, body } = splitHead(bytesToByteString(bytes));
  const headers = parseHeaders(head);
  const media = parseMediaType(headers.values.get('content-type'));
  const out: Collected = { texts: [], parts: [], links: [], chars: 0 };
  walkEntity(headers, body, 0, out, limits);
  return {
    subject: decodeHeaderValue(headers.values.get('subject') ?? ''),
    from: decodeHeaderValue(headers.values.get('from') ?? ''),
    contentType: media.type,
    charset: (media.params.get('charset') ?? '').toLowerCase(),
    text: out.texts.join('\n\n').replace(/\r\n?/g, '\n'),
    parts: out.parts,
    links: out.links,
  };
}
