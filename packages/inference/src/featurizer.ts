// The featurizer shared by training and serving: hashed word and character n-grams over the
// parsed email, one L2-normalized block per field. Pure and deterministic: the same spec and
// email always give the same sparse vector, on any machine.

import type { ParsedEmail } from './email-parse.js';
import { InferenceError } from './errors.js';
import { hashRange, mix32, namespaceState } from './feature-hash.js';

/** JSON-serializable description of the featurizer; stored with every model that uses it. */
export interface HashedNgramsSpec {
  kind: 'hashed-ngrams';
  version: 1;
  /** Size of the hashed feature space (the model's weight table has this many rows). */
  dims: number;
  /** Hash seed; a model is only valid with the seed it was trained with. */
  seed: number;
  /** Word n-gram lengths over the body text, inclusive, e.g. [1, 2]. */
  wordNgrams: [number, number];
  /** Character n-gram lengths over the body text, inclusive, e.g. [3, 5]. */
  charNgrams: [number, number];
  /** Body characters used for character n-grams (the start of the text). */
  maxChars: number;
  /** Body words used for word n-grams (the start of the text). */
  maxWords: number;
}

/** Sparse feature vector: strictly increasing `indices` in [0, dims) and their values. */
export interface SparseFeatures {
  indices: Int32Array;
  values: Float32Array;
}

/** The spec the email-triage demo model uses (2^18 dims). */
export const defaultEmailFeaturizerSpec: HashedNgramsSpec = {
  kind: 'hashed-ngrams',
  version: 1,
  dims: 1 << 18,
  seed: 1,
  wordNgrams: [1, 2],
  charNgrams: [3, 5],
  maxChars: 6000,
  maxWords: 3000,
};

/** Throws FEATURIZER_SPEC_INVALID unless `spec` is a spec this code can compute. */
export function validateFeaturizerSpec(spec: unknown): HashedNgramsSpec {
  const s = spec as Partial<HashedNgramsSpec> | null;
  const range = (r: unknown) =>
    Array.isArray(r) && r.length === 2 && r.every(Number.isInteger) && r[0] >= 1 && r[0] <= r[1];
  const problems: string[] = [];
  if (s?.kind !== 'hashed-ngrams') problems.push("kind must be 'hashed-ngrams'");
  if (s?.version !== 1) problems.push('version must be 1');
  if (!Number.isInteger(s?.dims) || s!.dims! < 2 || s!.dims! > 1 << 26)
    problems.push('dims must be an integer in [2, 2^26]');
  if (!Number.isInteger(s?.seed)) problems.push('seed must be an integer');
  if (!range(s?.wordNgrams)) problems.push('wordNgrams must be [min, max] with 1 <= min <= max');
  if (!range(s?.charNgrams)) problems.push('charNgrams must be [min, max] with 1 <= min <= max');
  if (!Number.isInteger(s?.maxChars) || s!.maxChars! < 0) problems.push('maxChars must be >= 0');
  if (!Number.isInteger(s?.maxWords) || s!.maxWords! < 0) problems.push('maxWords must be >= 0');
  if (problems.length > 0) {
    throw new InferenceError(
      'FEATURIZER_SPEC_INVALID',
      `Featurizer spec is invalid: ${problems.join('; ')}. Use the spec stored with the model.`,
      { problems },
    );
  }
  return s as HashedNgramsSpec;
}

const wordPattern = /[\p{L}\p{N}]+(?:['’._@-][\p{L}\p{N}]+)*/gu;

function words(text: string, limit = Number.POSITIVE_INFINITY): string[] {
  const out: string[] = [];
  for (const m of text.toLowerCase().matchAll(wordPattern)) {
    // Long digit runs (prices, ids, dates) matter by shape, not value.
    out.push(m[0].length > 3 && /\d/.test(m[0]) ? m[0].replace(/\d/g, '0') : m[0]);
    if (out.length >= limit) break;
  }
  return out;
}

/**
 * Scratch accumulators, reused across calls (one per `dims`) because allocating and hashing
 * into Maps made featurizing the corpus 5x slower. Every call leaves them zeroed.
 */
interface Scratch {
  counts: Float64Array;
  merged: Float64Array;
  touched: Int32Array;
  mergedTouched: Int32Array;
}
const scratchByDims = new Map<number, Scratch>();

function scratchFor(dims: number): Scratch {
  let s = scratchByDims.get(dims);
  if (!s) {
    s = {
      counts: new Float64Array(dims),
      merged: new Float64Array(dims),
      touched: new Int32Array(dims),
      mergedTouched: new Int32Array(dims),
    };
    scratchByDims.set(dims, s);
  }
  return s;
}

/** Counts of hashed features for one field; flushed as one unit-length block. */
class Block {
  private n = 0;
  constructor(
    private readonly scratch: Scratch,
    private readonly dims: number,
    private readonly state: number,
  ) {}

  add(token: string): void {
    this.addHash(hashRange(this.state, token, 0, token.length));
  }

  addHash(h: number): void {
    const i = h % this.dims;
    if (this.scratch.counts[i] === 0) this.scratch.touched[this.n++] = i;
    this.scratch.counts[i]! += 1;
  }

  /** Char n-grams of `text`, hashed incrementally (same values as `add` on each substring). */
  addCharNgrams(text: string, [min, max]: [number, number]): void {
    for (let start = 0; start + min <= text.length; start++) {
      let h = this.state;
      const stop = Math.min(max, text.length - start);
      for (let n = 1; n <= stop; n++) {
        h = Math.imul(h ^ text.charCodeAt(start + n - 1), 0x01000193);
        if (n >= min) this.addHash(mix32(h ^ n));
      }
    }
  }

  /** Adds this block, as sublinear counts (1 + ln c) scaled to unit length, and resets it. */
  flushInto(merged: Float64Array, mergedTouched: Int32Array, mergedCount: number): number {
    const { counts, touched } = this.scratch;
    let norm = 0;
    for (let k = 0; k < this.n; k++) norm += (1 + Math.log(counts[touched[k]!]!)) ** 2;
    const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    let m = mergedCount;
    for (let k = 0; k < this.n; k++) {
      const i = touched[k]!;
      if (merged[i] === 0) mergedTouched[m++] = i;
      merged[i]! += (1 + Math.log(counts[i]!)) * scale;
      counts[i] = 0;
    }
    this.n = 0;
    return m;
  }
}

function domainsOf(address: string): string[] {
  const at = address.lastIndexOf('@');
  const host = (at >= 0 ? address.slice(at + 1) : address).replace(/[>\]\s].*$/, '');
  const labels = host.split('.').filter(Boolean);
  const out: string[] = [];
  for (let i = Math.max(0, labels.length - 3); i < labels.length; i++)
    out.push(labels.slice(i).join('.'));
  return out;
}

function bucket(n: number): string {
  return n <= 0 ? '0' : String(Math.floor(Math.log2(n + 1)));
}

/** Computes the sparse feature vector of a parsed email. */
export function featurize(spec: HashedNgramsSpec, email: ParsedEmail): SparseFeatures {
  const { dims, seed } = spec;
  const scratch = scratchFor(dims);
  const block = (ns: string) => new Block(scratch, dims, namespaceState(seed, ns));
  let mergedCount = 0;
  // Blocks share the scratch counts, so each is flushed before the next one starts.
  const done = (b: Block) => {
    mergedCount = b.flushInto(scratch.merged, scratch.mergedTouched, mergedCount);
  };

  const subject = block('subject');
  const subjectWords = words(email.subject);
  for (const w of subjectWords) subject.add(w);
  for (let i = 1; i < subjectWords.length; i++)
    subject.add(`${subjectWords[i - 1]} ${subjectWords[i]}`);
  subject.addCharNgrams(` ${email.subject.toLowerCase().replace(/\s+/g, ' ')} `, [3, 4]);
  done(subject);

  const from = block('from');
  const fromLower = email.from.toLowerCase();
  const address = /<([^>]*)>/.exec(fromLower)?.[1] ?? /\S+@\S+/.exec(fromLower)?.[0] ?? '';
  for (const w of words(fromLower)) from.add(w);
  if (address) from.add(`addr=${address}`);
  for (const d of domainsOf(address)) from.add(`domain=${d}`);
  from.add(`has-name=${fromLower.replace(/<[^>]*>/, '').trim().length > 0}`);
  done(from);

  const structure = block('structure');
  structure.add(`type=${email.contentType}`);
  structure.add(`charset=${email.charset}`);
  for (const p of email.parts) structure.add(`part=${p}`);
  structure.add(`parts=${bucket(email.parts.length)}`);
  structure.add(`links=${bucket(email.links.length)}`);
  structure.add(`chars=${bucket(email.text.length)}`);
  const letters = email.text.replace(/[^\p{L}]/gu, '');
  const upper = letters.replace(/[^\p{Lu}]/gu, '').length;
  structure.add(`upper=${letters.length ? Math.round((10 * upper) / letters.length) : -1}`);
  done(structure);

  const links = block('links');
  for (const link of email.links) {
    const host = /^[a-z]+:\/\/([^/:?#]+)/i.exec(link)?.[1]?.toLowerCase();
    links.add(host ? 'http' : (link.split(':')[0] ?? '').toLowerCase());
    if (host) for (const d of domainsOf(host)) links.add(d);
  }
  done(links);

  const body = block('words');
  const bodyWords = words(email.text, spec.maxWords);
  for (let n = spec.wordNgrams[0]; n <= spec.wordNgrams[1]; n++) {
    for (let i = 0; i + n <= bodyWords.length; i++) body.add(bodyWords.slice(i, i + n).join(' '));
  }
  done(body);

  const chars = block('chars');
  const text = email.text.slice(0, spec.maxChars).toLowerCase().replace(/\s+/g, ' ');
  chars.addCharNgrams(text, spec.charNgrams);
  done(chars);

  return collect(scratch, mergedCount);
}

/** Reads the merged vector out of the scratch (sorted by index) and zeroes it. */
function collect(scratch: Scratch, count: number): SparseFeatures {
  const { merged, mergedTouched } = scratch;
  const indices = radixSort(mergedTouched.slice(0, count), scratch.counts.length);
  const values = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const i = indices[k]!;
    values[k] = merged[i]!;
    merged[i] = 0;
  }
  return { indices, values };
}

/**
 * Sorts non-negative ints below `limit` (LSD radix, 11 bits a pass): several times faster than
 * `Int32Array.prototype.sort` at a few thousand features per email.
 */
function radixSort(keys: Int32Array<ArrayBuffer>, limit: number): Int32Array<ArrayBuffer> {
  const bits = 11;
  const buckets = new Int32Array(1 << bits);
  let src = keys;
  let dst = new Int32Array(keys.length);
  for (let shift = 0; 1 << shift < limit && shift < 31; shift += bits) {
    buckets.fill(0);
    for (let k = 0; k < src.length; k++) buckets[(src[k]! >>> shift) & 2047]! += 1;
    let sum = 0;
    for (let b = 0; b < buckets.length; b++) {
      const c = buckets[b]!;
      buckets[b] = sum;
      sum += c;
    }
    for (let k = 0; k < src.length; k++) dst[buckets[(src[k]! >>> shift) & 2047]!++] = src[k]!;
    [src, dst] = [dst, src];
  }
  return src;
}
