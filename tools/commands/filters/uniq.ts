/**
 * uniq [-cdui] [INPUT]: one line of each run of equal adjacent lines, as coreutils.
 * -c prefixes the run's length ("%7d "), -d prints only repeated lines, -u only lines
 * that are not repeated, -i compares case-insensitively.
 */
import { UsageError, type Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { put, readInputs, splitLines } from './input.js';

export const uniqCommand: Command<unknown> = {
  name: 'uniq',
  usage: 'uniq [-cdui] [INPUT]',
  summary: 'drop repeated adjacent lines',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'cdui');
    const has = (c: string): boolean => opts.some(([o]) => o === c);
    if (rest.length > 1) throw new UsageError('only one INPUT (writing to OUTPUT is done with >)');
    const { inputs, failed } = readInputs('uniq', rest, io, filesOf(ctx, sh));
    if (failed) return 1;
    const lines = splitLines(inputs[0].text);
    const same = (a: string, b: string): boolean => (has('i') ? a.toLowerCase() === b.toLowerCase() : a === b);
    let out = '';
    for (let i = 0; i < lines.length;) {
      let j = i + 1;
      while (j < lines.length && same(lines[i], lines[j])) j++;
      const n = j - i;
      if ((!has('d') || n > 1) && (!has('u') || n === 1)) {
        out += (has('c') ? String(n).padStart(7) + ' ' : '') + lines[i] + '\n';
      }
      i = j;
    }
    put(io, out);
    return 0;
  },
};
