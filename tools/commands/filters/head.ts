/**
 * head [-n [-]N | -c [-]N | -N] [-qv] [FILE...] and tail [-n [+]N | -c [+]N | -N]
 * [-qv] [FILE...]: the first or last lines (or bytes), as coreutils. head -n -N is all
 * but the last N; tail -n +N starts at line N. Several files get "==> F <==" headers.
 */
import { UsageError, type Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { parseCount, put, readInputs } from './input.js';

/** Lines with their newlines kept (the last may lack one). */
function linesKept(text: string): string[] {
  const out = text.split(/(?<=\n)/);
  return out.length === 1 && out[0] === '' ? [] : out;
}

function headTail(which: 'head' | 'tail'): Command<unknown> {
  return {
    name: which,
    usage: `${which} [-n ${which === 'head' ? '[-]' : '[+]'}N | -c ${which === 'head' ? '[-]' : '[+]'}N] [-qv] [FILE...]`,
    summary: which === 'head' ? 'print the first lines (10 by default)' : 'print the last lines (10 by default)',
    run(ctx, args, io, sh) {
      // The old form -N (and tail's +N) is -n N.
      if (args.length && /^-[0-9]+$/.test(args[0])) args = ['-n', args[0].slice(1), ...args.slice(1)];
      else if (which === 'tail' && args.length && /^\+[0-9]+$/.test(args[0])) args = ['-n', args[0], ...args.slice(1)];
      const { opts, rest } = getopt(args, 'n:c:qv');
      let bytes = false;
      let spec = '10';
      let headers: boolean | null = null;
      for (const [o, v] of opts) {
        if (o === 'n' || o === 'c') { bytes = o === 'c'; spec = v!; }
        if (o === 'q') headers = false;
        if (o === 'v') headers = true;
      }
      const m = /^([+-]?)(.*)$/.exec(spec)!;
      const n = parseCount(m[2]);
      if (n === null) throw new UsageError(`invalid number of ${bytes ? 'bytes' : 'lines'}: '${spec}'`);
      const sign = m[1];
      const { inputs, failed } = readInputs(which, rest, io, filesOf(ctx, sh));
      const show = headers ?? rest.length > 1;
      let out = '';
      inputs.forEach((input, i) => {
        if (show) out += `${i > 0 ? '\n' : ''}==> ${input.name === '-' ? 'standard input' : input.name} <==\n`;
        const units = bytes ? [...input.text] : linesKept(input.text);
        let pick: string[];
        if (which === 'head') pick = sign === '-' ? units.slice(0, Math.max(0, units.length - n)) : units.slice(0, n);
        else pick = sign === '+' ? units.slice(Math.max(0, n - 1)) : n === 0 ? [] : units.slice(-n);
        out += pick.join('');
      });
      put(io, out);
      return failed ? 1 : 0;
    },
  };
}

export const headCommand = headTail('head');
export const tailCommand = headTail('tail');
