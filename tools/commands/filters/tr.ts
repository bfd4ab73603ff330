/**
 * tr [-cds] SET1 [SET2]: translate, delete (-d) or squeeze (-s) bytes, as coreutils in
 * the C locale. Sets take ranges (a-z), escapes (\n \t \\ \NNN) and the classes
 * [:alpha:] [:digit:] [:lower:] [:upper:] [:space:] [:alnum:] [:punct:] [:blank:]
 * [:cntrl:] [:print:] [:graph:] [:xdigit:]; -c uses the complement of SET1. A SET2
 * shorter than SET1 is extended with its last byte.
 */
import { UsageError, type Command } from '../../registry.js';
import { getopt } from '../../lib/getopt.js';
import { latin1, readStdin } from '../../lib/io.js';
import { put } from './input.js';

const CLASS_TEST: Record<string, (c: number) => boolean> = {
  alpha: (c) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122),
  digit: (c) => c >= 48 && c <= 57,
  alnum: (c) => CLASS_TEST.alpha(c) || CLASS_TEST.digit(c),
  lower: (c) => c >= 97 && c <= 122,
  upper: (c) => c >= 65 && c <= 90,
  space: (c) => c === 32 || (c >= 9 && c <= 13),
  blank: (c) => c === 32 || c === 9,
  punct: (c) => c > 32 && c < 127 && !CLASS_TEST.alnum(c),
  cntrl: (c) => c < 32 || c === 127,
  print: (c) => c >= 32 && c < 127,
  graph: (c) => c > 32 && c < 127,
  xdigit: (c) => CLASS_TEST.digit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102),
};

const ESC: Record<string, number> = { n: 10, t: 9, r: 13, '\\': 92, a: 7, b: 8, f: 12, v: 11 };

/** A set as its list of bytes, in order. */
function expandSet(s: string): number[] {
  const out: number[] = [];
  const atom = (i: number): [number, number] => {
    if (s[i] === '\\' && i + 1 < s.length) {
      const oct = /^[0-7]{1,3}/.exec(s.slice(i + 1));
      if (oct) return [parseInt(oct[0], 8) & 0xff, i + 1 + oct[0].length];
      const d = s[i + 1];
      return [ESC[d] ?? d.charCodeAt(0), i + 2];
    }
    return [s.charCodeAt(i), i + 1];
  };
  for (let i = 0; i < s.length;) {
    const cls = /^\[:([a-z]+):\]/.exec(s.slice(i));
    if (cls) {
      const test = CLASS_TEST[cls[1]];
      if (!test) throw new UsageError(`invalid character class '${cls[1]}'`);
      for (let c = 0; c < 256; c++) if (test(c)) out.push(c);
      i += cls[0].length;
      continue;
    }
    const [lo, next] = atom(i);
    if (s[next] === '-' && next + 1 < s.length) {
      const [hi, after] = atom(next + 1);
      if (hi < lo) throw new UsageError(`range-endpoints of '${s.slice(i, after)}' are in reverse collating sequence order`);
      for (let c = lo; c <= hi; c++) out.push(c);
      i = after;
      continue;
    }
    out.push(lo);
    i = next;
  }
  return out;
}

export const trCommand: Command<unknown> = {
  name: 'tr',
  usage: 'tr [-cds] SET1 [SET2]',
  summary: 'translate, delete or squeeze bytes',
  run(_ctx, args, io) {
    const { opts, rest } = getopt(args, 'cCds');
    const has = (c: string): boolean => opts.some(([o]) => o === c);
    const del = has('d');
    const squeeze = has('s');
    const need = del && squeeze ? 2 : del || (squeeze && rest.length === 1) ? 1 : 2;
    if (rest.length < need) throw new UsageError(rest.length === 0 ? 'missing operand' : `missing operand after '${rest[rest.length - 1]}'`);
    if (rest.length > need) throw new UsageError(`extra operand '${rest[need]}'`);
    let set1 = expandSet(rest[0]);
    if (has('c') || has('C')) {
      const inSet = new Set(set1);
      set1 = [...Array(256).keys()].filter((c) => !inSet.has(c));
    }
    const set2 = rest.length > 1 ? expandSet(rest[1]) : [];
    const map = new Int16Array(256).map((_, i) => i);
    const drop = new Uint8Array(256);
    if (del) {
      for (const c of set1) drop[c] = 1;
    } else if (set2.length) {
      set1.forEach((c, i) => { map[c] = set2[Math.min(i, set2.length - 1)]; });
    } else if (!squeeze) {
      throw new UsageError('when not truncating set1, string2 must be non-empty');
    }
    const squeezeSet = new Uint8Array(256);
    if (squeeze) for (const c of rest.length > 1 || del ? set2 : set1) squeezeSet[c] = 1;
    const text = latin1(readStdin(io));
    let out = '';
    let last = -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (drop[c]) continue;
      const m = map[c];
      if (squeezeSet[m] && m === last) continue;
      out += String.fromCharCode(m);
      last = m;
    }
    put(io, out);
    return 0;
  },
};
