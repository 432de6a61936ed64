// Byte-level MIME decoding. Raw email is handled as a "byte string": one char per byte
// (latin1), so header and body splitting never corrupts bytes before their charset is known.

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });

/** Bytes to a byte string (each char code is one byte, 0..255). */
export function bytesToByteString(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** A byte string back to bytes (char codes above 255 are truncated to their low byte). */
export function byteStringToBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

// WHATWG maps latin1/us-ascii/iso-8859-1 to windows-1252 already; these are labels seen in
// real mail that TextDecoder does not know, mapped to their closest supported encoding.
const charsetAliases: Record<string, string> = {
  'x-user-defined': 'windows-1252',
  'iso-8859-8-i': 'iso-8859-8',
  ansi_x3_4_1968: 'windows-1252',
  'ansi_x3.4-1968': 'windows-1252',
  '646': 'windows-1252',
  default: 'windows-1252',
  'x-unknown': 'windows-1252',
  unknown: 'windows-1252',
  'ks_c_5601-1987': 'euc-kr',
  'x-gbk': 'gbk',
  gb2312: 'gbk',
  chinesebig5: 'big5',
  'x-sjis': 'shift_jis',
  'x-mac-roman': 'macintosh',
  utf8: 'utf-8',
};

type Decoder = InstanceType<typeof TextDecoder>;

const decoderCache = new Map<string, Decoder | null>();

function decoderFor(charset: string): Decoder | null {
  const label = charset
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, '');
  const cached = decoderCache.get(label);
  if (cached !== undefined) return cached;
  let decoder: Decoder | null = null;
  try {
    decoder = new TextDecoder(charsetAliases[label] ?? label);
  } catch {
    decoder = null; // unknown label: the caller falls back to a guess
  }
  decoderCache.set(label, decoder);
  return decoder;
}

// windows-1252's 0x80..0x9F. Node 20's TextDecoder('windows-1252') decodes these as latin1
// control characters (nodejs/node#56542), losing curly quotes, dashes and the euro sign.
const cp1252High = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152,
  0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122,
  0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

function decodeWindows1252(bytes: Uint8Array): string {
  let out = '';
  const chunk = 8192;
  for (let start = 0; start < bytes.length; start += chunk) {
    const codes = Array.from(bytes.subarray(start, start + chunk), (b) =>
      b >= 0x80 && b < 0xa0 ? cp1252High[b - 0x80]! : b,
    );
    out += String.fromCharCode(...codes);
  }
  return out;
}

/**
 * Decodes bytes in the declared charset. Without a known charset: UTF-8 when the bytes are
 * valid UTF-8, otherwise windows-1252 (what undeclared 8-bit mail of this era mostly is).
 */
export function decodeCharset(bytes: Uint8Array, charset?: string): string {
  const declared = charset ? decoderFor(charset) : null;
  if (declared?.encoding === 'windows-1252') return decodeWindows1252(bytes);
  if (declared && declared.encoding !== 'utf-8') return declared.decode(bytes);
  try {
    return utf8Fatal.decode(bytes);
  } catch {
    // Declared UTF-8 that is not, or nothing declared: windows-1252 keeps every byte.
    return decodeWindows1252(bytes);
  }
}

const base64Values = (() => {
  const table = new Int16Array(256).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  table['-'.charCodeAt(0)] = 62; // base64url, seen in the wild
  table['_'.charCodeAt(0)] = 63;
  return table;
})();

/** Lenient base64: skips whitespace and junk, stops at padding, tolerates a missing tail. */
export function decodeBase64(s: string): Uint8Array {
  const out = new Uint8Array(Math.floor((s.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) break; // '='
    const v = c < 256 ? base64Values[c]! : -1;
    if (v < 0) continue;
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Quoted-printable (RFC 2045): `=XX` escapes and `=` soft line breaks. With `underscoreIsSpace`
 * it is the Q encoding of RFC 2047 headers. Malformed escapes are kept as written.
 */
export function decodeQuotedPrintable(s: string, underscoreIsSpace = false): Uint8Array {
  const out = new Uint8Array(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 61) {
      // '='
      const h1 = hexValue(s.charCodeAt(i + 1));
      const h2 = hexValue(s.charCodeAt(i + 2));
      if (h1 >= 0 && h2 >= 0) {
        out[n++] = (h1 << 4) | h2;
        i += 2;
        continue;
      }
      // Soft line break: '=' then optional trailing blanks then a newline.
      let j = i + 1;
      while (s[j] === ' ' || s[j] === '\t') j++;
      if (s[j] === '\r' && s[j + 1] === '\n') {
        i = j + 1;
        continue;
      }
      if (s[j] === '\n') {
        i = j;
        continue;
      }
      out[n++] = c;
      continue;
    }
    out[n++] = underscoreIsSpace && c === 95 ? 32 : c & 0xff;
  }
  return out.subarray(0, n);
}

const encodedWord = /=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=/g;

/**
 * Decodes a header value given as a byte string: RFC 2047 encoded-words (`=?charset?B|Q?...?=`,
 * whitespace between adjacent ones dropped) and raw 8-bit bytes (UTF-8, else windows-1252).
 */
export function decodeHeaderValue(raw: string): string {
  const plain = (segment: string) =>
    /[\x80-\xff]/.test(segment) ? decodeCharset(byteStringToBytes(segment)) : segment;
  let out = '';
  let last = 0;
  let lastWasWord = false;
  for (const m of raw.matchAll(encodedWord)) {
    const between = raw.slice(last, m.index);
    if (!(lastWasWord && /^\s*$/.test(between))) out += plain(between);
    const charset = m[1]!.split('*')[0]!; // RFC 2231 language suffix
    const bytes =
      m[2]!.toUpperCase() === 'B' ? decodeBase64(m[3]!) : decodeQuotedPrintable(m[3]!, true);
    out += decodeCharset(bytes, charset);
    last = m.index + m[0].length;
    lastWasWord = true;
  }
  return out + plain(raw.slice(last));
}
