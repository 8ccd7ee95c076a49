/** A seeded PRNG and random-input helpers for fuzz-style tests. */

/** mulberry32: small, seeded, good enough for input fuzzing. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => int(256));
  /** Printable Latin-1, valid in a header value. */
  const latin1 = (n: number) =>
    Array.from({ length: n }, () => String.fromCharCode(pick([0x20 + int(95), 0xa0 + int(96)])))
      .join("");
  /** URL junk: printable ASCII without `#` (it would cut the URL). */
  const urlJunk = (n: number) =>
    Array.from(
      { length: n },
      () => pick([..."abc%=&+?/;:@!$'()*,~.-_ 0123456789ABCDEFzZ\"<>[]{}|\\^`"]),
    ).join("");
  return { next, int, pick, bytes, latin1, urlJunk };
}

/** The helpers {@link prng} returns. */
export type Prng = ReturnType<typeof prng>;
