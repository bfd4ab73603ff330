/**
 * cut -f LIST [-d DELIM] [-s] | -b LIST | -c LIST [FILE...]: select fields or bytes of
 * each line, as coreutils (C locale: -c is -b). LIST is N, N-M, N-, -M, comma-separated;
 * the fields keep their input order and delimiter. Lines without the delimiter are
 * printed whole, or left out with -s.
 */
import { UsageError, type Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { joinLines, put, readInputs, splitLines } from './input.js';

/** LIST as a predicate on 1-based positions. */
function parseList(list: string): (n: number) => boolean {
  const ranges: [number, number][] = [];
  for (const part of list.split(',')) {
    const m = /^([0-9]*)(-?)([0-9]*)$/.exec(part);
    if (!m || part === '' || part === '-') throw new UsageError(`invalid field list '${list}'`);
    const lo = m[1] === '' ? 1 : Number(m[1]);
    const hi = m[2] === '' ? lo : m[3] === '' ? Infinity : Number(m[3]);
    if (lo < 1) throw new UsageError('fields and positions are numbered from 1');
    if (hi < lo) throw new UsageError('invalid decreasing range');
    ranges.push([lo, hi]);
  }
  return (n) => ranges.some(([lo, hi]) => n >= lo && n <= hi);
}

export const cutCommand: Command<unknown> = {
  name: 'cut',
  usage: 'cut -f LIST [-d DELIM] [-s] | -b LIST | -c LIST [FILE...]',
  summary: 'select fields or bytes of lines',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'b:c:f:d:sn');
    let mode: 'f' | 'b' | null = null;
    let list = '';
    let delim = '\t';
    let suppress = false;
    for (const [o, v] of opts) {
      if (o === 'b' || o === 'c' || o === 'f') {
        if (mode !== null) throw new UsageError('only one type of list may be specified');
        mode = o === 'f' ? 'f' : 'b';
        list = v!;
      } else if (o === 'd') {
        if (v!.length !== 1) throw new UsageError('the delimiter must be a single character');
        delim = v!;
      } else if (o === 's') suppress = true;
    }
    if (mode === null) throw new UsageError('you must specify a list of bytes, characters, or fields');
    const pick = parseList(list);
    const { inputs, failed } = readInputs('cut', rest, io, filesOf(ctx, sh));
    const out: string[] = [];
    for (const line of inputs.flatMap((i) => splitLines(i.text))) {
      if (mode === 'b') {
        out.push([...line].filter((_, i) => pick(i + 1)).join(''));
      } else if (!line.includes(delim)) {
        if (!suppress) out.push(line);
      } else {
        out.push(line.split(delim).filter((_, i) => pick(i + 1)).join(delim));
      }
    }
    put(io, joinLines(out));
    return failed ? 1 : 0;
  },
};
