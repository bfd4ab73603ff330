/**
 * Pattern matching notation (XCU 2.13), the one matcher of the shell: `case` patterns
 * (XCU 2.9.4.3), `${x%pat}` and its kin (XCU 2.6.2) and pathname expansion (XCU 2.6.6,
 * tools/sh/glob.ts).
 *
 * A pattern is text whose characters are each quoted or not (quoting survives
 * expansion: `"*"` and `\*` are literal, an unquoted `*` from `$p` is not):
 * - `*` matches any string, `?` any one character (XCU 2.13.2);
 * - `[...]` a bracket expression (XCU 2.13.1, XBD 9.3.5): characters, ranges `a-z`,
 *   classes `[:alpha:]`, `!` first negates, `]` first is literal; a `[` with no
 *   closing `]` is an ordinary character. `^` first is an ordinary character, as in
 *   dash 0.5.12 (POSIX leaves it unspecified; bash negates);
 * - a backslash that is itself unquoted in the pattern quotes the next character.
 * Ranges compare code points (the C locale's collation). Matching is iterative (one
 * backtrack point, the last `*`), so no pattern can exhaust the host's stack.
 */

/** One piece of pattern text: `quoted` characters match only themselves. */
export interface PatternText { text: string; quoted: boolean }

type Item =
  | { k: 'lit'; c: string }
  | { k: 'any' }
  | { k: 'star' }
  | { k: 'set'; negate: boolean; test: (c: string) => boolean };

export interface Pattern {
  /** Does the whole of `s` match? */
  matches(s: string): boolean;
  /** Has the pattern `*`, `?` or a bracket expression (pathname expansion needs one)? */
  readonly magic: boolean;
  /** The pattern as a literal string (what an unmatched pathname pattern leaves). */
  readonly literal: string;
}

const CLASSES: Record<string, (c: string) => boolean> = {
  alpha: (c) => /^[A-Za-z]$/.test(c),
  digit: (c) => /^[0-9]$/.test(c),
  alnum: (c) => /^[A-Za-z0-9]$/.test(c),
  upper: (c) => /^[A-Z]$/.test(c),
  lower: (c) => /^[a-z]$/.test(c),
  space: (c) => /^[ \t\n\r\f\v]$/.test(c),
  blank: (c) => c === ' ' || c === '\t',
  punct: (c) => /^[!-/:-@[-`{-~]$/.test(c),
  xdigit: (c) => /^[0-9A-Fa-f]$/.test(c),
  cntrl: (c) => c.charCodeAt(0) < 32 || c.charCodeAt(0) === 127,
  print: (c) => c.charCodeAt(0) >= 32 && c.charCodeAt(0) < 127,
  graph: (c) => c.charCodeAt(0) > 32 && c.charCodeAt(0) < 127,
};

/** Characters of the pattern, each marked quoted or not. */
function charsOf(pieces: readonly PatternText[]): { c: string; q: boolean }[] {
  const out: { c: string; q: boolean }[] = [];
  for (const p of pieces) for (const c of p.text) out.push({ c, q: p.quoted });
  // An unquoted backslash quotes what follows (it came from an expansion, e.g. $p).
  const res: { c: string; q: boolean }[] = [];
  for (let i = 0; i < out.length; i++) {
    if (!out[i].q && out[i].c === '\\' && i + 1 < out.length) { res.push({ c: out[i + 1].c, q: true }); i++; } else res.push(out[i]);
  }
  return res;
}

/** A bracket expression starting at chars[i] (the `[`): the item and the index after `]`. */
function bracket(chars: { c: string; q: boolean }[], i: number): { item: Item; next: number } | null {
  let j = i + 1;
  let negate = false;
  if (j < chars.length && !chars[j].q && chars[j].c === '!') { negate = true; j++; }
  const tests: ((c: string) => boolean)[] = [];
  let first = true;
  for (; j < chars.length; j++) {
    const { c, q } = chars[j];
    if (c === ']' && !q && !first) {
      const item: Item = { k: 'set', negate, test: (x) => tests.some((t) => t(x)) };
      return { item, next: j + 1 };
    }
    first = false;
    if (c === '[' && !q && chars[j + 1]?.c === ':' && !chars[j + 1].q) {
      const rest = chars.slice(j + 2).map((x) => x.c).join('');
      const m = /^([a-z]+):\]/.exec(rest);
      if (m && CLASSES[m[1]]) { tests.push(CLASSES[m[1]]); j += 2 + m[0].length - 1; continue; }
    }
    const dash = chars[j + 1];
    const hi = chars[j + 2];
    if (dash && dash.c === '-' && !dash.q && hi && !(hi.c === ']' && !hi.q)) {
      const lo = c.codePointAt(0)!;
      const top = hi.c.codePointAt(0)!;
      tests.push((x) => { const v = x.codePointAt(0)!; return v >= lo && v <= top; });
      j += 2;
      continue;
    }
    tests.push((x) => x === c);
  }
  return null; // no closing ']': the '[' is literal (XCU 2.13.1)
}

/** Compile pattern text (XCU 2.13). */
export function compilePattern(pieces: readonly PatternText[]): Pattern {
  const chars = charsOf(pieces);
  const items: Item[] = [];
  let magic = false;
  for (let i = 0; i < chars.length; i++) {
    const { c, q } = chars[i];
    if (!q && c === '*') {
      if (items[items.length - 1]?.k !== 'star') items.push({ k: 'star' });
      magic = true;
    } else if (!q && c === '?') {
      items.push({ k: 'any' });
      magic = true;
    } else if (!q && c === '[') {
      const b = bracket(chars, i);
      if (b) { items.push(b.item); i = b.next - 1; magic = true; } else items.push({ k: 'lit', c });
    } else items.push({ k: 'lit', c });
  }
  return { matches: (s) => run(items, [...s]), magic, literal: pieces.map((p) => p.text).join('') };
}

/** A pattern from plain text, every character unquoted. */
export function patternOf(text: string): Pattern {
  return compilePattern([{ text, quoted: false }]);
}

function one(item: Item, c: string): boolean {
  switch (item.k) {
    case 'lit': return item.c === c;
    case 'any': return true;
    case 'set': return item.test(c) !== item.negate;
    default: return false;
  }
}

/** Match all of `s` (code points) against the items: greedy, backtracking to the last `*`. */
function run(items: Item[], s: string[]): boolean {
  let p = 0;
  let i = 0;
  let starP = -1;
  let starI = 0;
  while (i < s.length) {
    if (p < items.length && items[p].k === 'star') {
      starP = p++;
      starI = i;
    } else if (p < items.length && one(items[p], s[i])) {
      p++;
      i++;
    } else if (starP >= 0) {
      p = starP + 1;
      i = ++starI;
    } else {
      return false;
    }
  }
  while (p < items.length && items[p].k === 'star') p++;
  return p === items.length;
}
