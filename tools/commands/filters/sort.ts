/**
 * sort [-nrufb] [-t SEP] [-k POS1[,POS2]]... [FILE...]: sort lines as coreutils does in
 * the C locale (byte order). -n compares leading numbers (a line without one is 0),
 * -u keeps the first of each run of equal keys, -r reverses; lines with equal keys are
 * ordered by their whole text (the last-resort comparison), except with -u.
 * Fields: runs of blanks separate them (the blanks belong to the next field) unless
 * -t gives the separator; -k N,M is fields N..M, with n/r/f/b letters per key.
 */
import { UsageError, type Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { joinLines, put, readInputs, splitLines } from './input.js';

interface Key { from: number; to: number | null; numeric: boolean; reverse: boolean; fold: boolean; blanks: boolean }

function parseKey(spec: string, global: Omit<Key, 'from' | 'to'>): Key {
  const m = /^([0-9]+)(?:\.[0-9]+)?([bfnr]*)(?:,([0-9]+)(?:\.[0-9]+)?([bfnr]*))?$/.exec(spec);
  if (!m || Number(m[1]) < 1 || (m[3] !== undefined && Number(m[3]) < 1)) throw new UsageError(`invalid key '${spec}'`);
  const letters = (m[2] ?? '') + (m[4] ?? '');
  const own = letters !== '';
  return {
    from: Number(m[1]),
    to: m[3] === undefined ? null : Number(m[3]),
    numeric: own ? letters.includes('n') : global.numeric,
    reverse: own ? letters.includes('r') : global.reverse,
    fold: own ? letters.includes('f') : global.fold,
    blanks: own ? letters.includes('b') : global.blanks,
  };
}

/** Start offsets and ends of the fields of a line. */
function fields(line: string, sep: string | null): [number, number][] {
  const out: [number, number][] = [];
  if (sep !== null) {
    let start = 0;
    for (;;) {
      const at = line.indexOf(sep, start);
      if (at < 0) { out.push([start, line.length]); return out; }
      out.push([start, at]);
      start = at + sep.length;
    }
  }
  const re = /[ \t]*[^ \t]+|[ \t]+$/g;
  for (const m of line.matchAll(re)) out.push([m.index!, m.index! + m[0].length]);
  return out;
}

function keyText(line: string, k: Key, sep: string | null): string {
  const f = fields(line, sep);
  if (k.from > f.length) return '';
  const start = f[k.from - 1][0];
  const end = k.to === null || k.to > f.length ? line.length : f[k.to - 1][1];
  return line.slice(start, Math.max(start, end));
}

/** The leading number of a string as sort -n reads it. */
function leadingNumber(s: string): number {
  const m = /^[ \t]*(-?)([0-9]*(?:\.[0-9]*)?)/.exec(s)!;
  const v = Number(m[2] === '' || m[2] === '.' ? 0 : m[2]);
  return m[1] ? -v : v;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const sortCommand: Command<unknown> = {
  name: 'sort',
  usage: 'sort [-bfnru] [-t SEP] [-k POS1[,POS2]]... [FILE...]',
  summary: 'sort lines',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'bfnrut:k:');
    const global = { numeric: false, reverse: false, fold: false, blanks: false };
    let unique = false;
    let sep: string | null = null;
    const specs: string[] = [];
    for (const [o, v] of opts) {
      if (o === 'n') global.numeric = true;
      else if (o === 'r') global.reverse = true;
      else if (o === 'f') global.fold = true;
      else if (o === 'b') global.blanks = true;
      else if (o === 'u') unique = true;
      else if (o === 't') {
        if (v!.length !== 1) throw new UsageError(`the separator must be one character, not '${v}'`);
        sep = v!;
      } else specs.push(v!);
    }
    const keys = specs.length ? specs.map((s) => parseKey(s, global)) : [{ from: 1, to: null, ...global }];
    const whole = specs.length === 0;
    const cmpKey = (a: string, b: string, k: Key): number => {
      let x = whole ? a : keyText(a, k, sep);
      let y = whole ? b : keyText(b, k, sep);
      if (k.blanks) { x = x.replace(/^[ \t]+/, ''); y = y.replace(/^[ \t]+/, ''); }
      if (k.fold) { x = x.toUpperCase(); y = y.toUpperCase(); }
      const c = k.numeric ? Math.sign(leadingNumber(x) - leadingNumber(y)) : compareBytes(x, y);
      return k.reverse ? -c : c;
    };
    const cmp = (a: string, b: string): number => {
      for (const k of keys) {
        const c = cmpKey(a, b, k);
        if (c !== 0) return c;
      }
      return 0;
    };
    const { inputs, failed } = readInputs('sort', rest, io, filesOf(ctx, sh));
    const lines = inputs.flatMap((i) => splitLines(i.text));
    lines.sort((a, b) => cmp(a, b) || (unique ? 0 : (global.reverse ? -1 : 1) * compareBytes(a, b)));
    const out = unique ? lines.filter((l, i) => i === 0 || cmp(lines[i - 1], l) !== 0) : lines;
    put(io, joinLines(out));
    return failed ? 2 : 0;
  },
};
