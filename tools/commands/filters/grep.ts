/**
 * grep [-EFcHhilnoqsvwx] [-e PATTERN]... [PATTERN] [FILE...]: print the lines that
 * match, as GNU grep in the C locale. Patterns are basic regular expressions, extended
 * with -E, fixed strings with -F (regex.ts). Status 0 if a line was selected, 1 if
 * none, 2 on an error (a missing file, a bad pattern), as POSIX says; with -q a match
 * gives 0 even after an error.
 */
import { UsageError, type Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { put, readInputs, splitLines } from './input.js';
import { RegexError, grepRegex } from './regex.js';

export const grepCommand: Command<unknown> = {
  name: 'grep',
  usage: 'grep [-EFcHhilnoqsvwx] [-m NUM] [-e PATTERN]... PATTERN [FILE...]',
  summary: 'print lines that match a pattern',
  help: '-E extended regex, -F fixed strings, -i ignore case, -v invert, -c count,\n' +
    '-n line numbers, -o only the matching parts, -q quiet, -l file names, -w words,\n' +
    '-x whole lines, -H/-h with/without file names, -s no messages about files,\n' +
    '-m NUM at most NUM selected lines per file.',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'EFGcHhilnoqsvwxe:m:');
    const has = (c: string): boolean => opts.some(([o]) => o === c);
    const patterns: string[] = [];
    let max = Infinity;
    for (const [o, v] of opts) {
      if (o === 'e') patterns.push(...v!.split('\n'));
      if (o === 'm') {
        if (!/^[0-9]+$/.test(v!)) throw new UsageError(`invalid max count '${v}'`);
        max = Number(v);
      }
    }
    let operands = rest;
    if (!has('e')) {
      if (operands.length === 0) throw new UsageError('missing PATTERN');
      patterns.push(...operands[0].split('\n'));
      operands = operands.slice(1);
    }
    let re: RegExp;
    try {
      re = grepRegex(patterns, { extended: has('E'), fixed: has('F'), icase: has('i'), word: has('w'), line: has('x') });
    } catch (e) {
      if (!(e instanceof RegexError)) throw e;
      io.err(`grep: ${e.message}\n`);
      return 2;
    }
    const quietErrors = has('s');
    const errIo = quietErrors ? { ...io, err: () => undefined } : io;
    const { inputs, failed } = readInputs('grep', operands, errIo, filesOf(ctx, sh));
    const names = has('H') || (operands.length > 1 && !has('h'));
    const invert = has('v');
    let selected = false;
    let out = '';
    for (const input of inputs) {
      const label = input.name === '-' ? '(standard input)' : input.name;
      const prefix = names ? `${label}:` : '';
      let count = 0;
      const lines = splitLines(input.text);
      for (let n = 0; n < lines.length && count < max; n++) {
        const line = lines[n];
        re.lastIndex = 0;
        const matches = re.test(line) !== invert;
        if (!matches) continue;
        count++;
        selected = true;
        if (has('q')) return 0;
        if (has('l') || has('c')) continue;
        const lead = prefix + (has('n') ? `${n + 1}:` : '');
        if (has('o')) {
          if (invert) continue;
          re.lastIndex = 0;
          for (const m of line.matchAll(re)) if (m[0] !== '') out += lead + m[0] + '\n';
        } else {
          out += lead + line + '\n';
        }
      }
      if (has('l') && count > 0) out += label + '\n';
      else if (has('c')) out += prefix + count + '\n';
    }
    put(io, out);
    if (failed && !(has('q') && selected)) return 2;
    return selected ? 0 : 1;
  },
};
