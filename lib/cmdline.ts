/**
 * Command-line helpers (Linux lib/cmdline.c): splitting a command line into words
 * (next_arg) and memparse.
 */
import { simple_strtoull } from './kstrtox.js';

export interface cmdline_arg { param: string; val: string | null }

/**
 * next_arg() over the whole line: whitespace separates, double quotes group (and vanish),
 * the first '=' splits a word into param and val.
 */
export function split_cmdline(cmdline: string): cmdline_arg[] {
  const out: cmdline_arg[] = [];
  let i = 0;
  const n = cmdline.length;
  while (i < n) {
    while (i < n && /\s/.test(cmdline[i])) i++;
    if (i >= n) break;
    let word = '';
    let inQuote = false;
    let equals = -1;
    for (; i < n; i++) {
      const c = cmdline[i];
      if (c === '"') { inQuote = !inQuote; continue; }
      if (!inQuote && /\s/.test(c)) break;
      if (c === '=' && equals < 0) equals = word.length;
      word += c;
    }
    if (equals < 0) out.push({ param: word, val: null });
    else out.push({ param: word.slice(0, equals), val: word.slice(equals + 1) });
  }
  return out;
}

const MEMPARSE_SHIFT: Record<string, bigint> = { k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };

/**
 * memparse(): simple_strtoull(s, 0) with an optional K/M/G/T/P/E suffix. Stricter than
 * Linux's (which leaves trailing text to the caller): anything after the suffix, no
 * digits at all, or a value beyond 2^53 gives null.
 */
export function memparse(s: string): number | null {
  const r = simple_strtoull(s, 0);
  if (r.end === 0) return null;
  let i = r.end;
  let v = r.val;
  const shift = MEMPARSE_SHIFT[(s[i] ?? '').toLowerCase()];
  if (shift !== undefined) { v <<= shift; i++; }
  if (i !== s.length) return null;
  return v > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(v);
}
