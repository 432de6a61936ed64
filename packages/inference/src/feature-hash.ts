// 32-bit hashing for feature names. FNV-1a over UTF-16 code units, finished with murmur3's
// avalanche so that low bits (the ones `% dims` keeps) are well mixed. Training and serving
// share this code, so a model's weights stay aligned with what serving computes.

const FNV_PRIME = 0x01000193;

/** murmur3 fmix32: spreads every input bit over the output. */
export function mix32(h: number): number {
  let x = h ^ (h >>> 16);
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** Starting state for one namespace (so `s:free` and `w:free` land on different indices). */
export function namespaceState(seed: number, namespace: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < namespace.length; i++) h = Math.imul(h ^ namespace.charCodeAt(i), FNV_PRIME);
  return Math.imul(h ^ 0x3a, FNV_PRIME); // ':' separator
}

/** Hash of `text[start, end)` continuing from a namespace state. */
export function hashRange(state: number, text: string, start: number, end: number): number {
  let h = state;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return mix32(h ^ (end - start));
}
