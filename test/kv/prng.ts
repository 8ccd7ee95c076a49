/**
 * A seeded PRNG (mulberry32) and random keys for differential tests.
 * @module
 */

/** Returns a function giving floats in [0, 1) from `seed`. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Characters that stress code point order: ASCII, BMP high, astral. */
const ALPHABET = [
  "a",
  "b",
  "z",
  "\u00e9",
  "\ud7ff",
  "\ue000",
  "\uffff",
  "\u{10000}",
  "\u{1F600}",
  "\u{10FFFF}",
  "/",
];

/** A random key of 1..maxLen characters from a small alphabet. */
export function randomKey(rand: () => number, maxLen = 4): string {
  const len = 1 + Math.floor(rand() * maxLen);
  let s = "";
  for (let i = 0; i < len; i++) {
    s += ALPHABET[Math.floor(rand() * ALPHABET.length)];
  }
  return s;
}

/** Reference order: UTF-8 bytes compared lexicographically. */
export function utf8Compare(a: string, b: string): number {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}
