/**
 * xxd [-p] [-u] [-c COLS] [-g BYTES] [-l LEN] [-s OFFSET] [FILE]: a hex dump in vim's
 * xxd layout ("00000000: 6865 6c6c 6f0a  hello."), or plain hex with -p (30 bytes a
 * line). Reads bytes: what `printf '\377'`, `read -r` or a file gives it.
 */
import { UsageError, type Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { readBinary } from './binary.js';
import { put } from './input.js';

function num(s: string, what: string): number {
  const m = /^(?:0[xX][0-9a-fA-F]+|[0-9]+)$/.exec(s);
  if (!m) throw new UsageError(`${what}: not a number: '${s}'`);
  return Number(s);
}

export const xxdCommand: Command<unknown> = {
  name: 'xxd',
  usage: 'xxd [-p] [-u] [-c COLS] [-g BYTES] [-l LEN] [-s OFFSET] [FILE]',
  summary: 'hex dump of bytes',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'puc:g:l:s:');
    let plain = false;
    let upper = false;
    let cols: number | null = null;
    let group: number | null = null;
    let len = Infinity;
    let skip = 0;
    for (const [o, v] of opts) {
      if (o === 'p') plain = true;
      else if (o === 'u') upper = true;
      else if (o === 'c') cols = num(v!, '-c');
      else if (o === 'g') group = num(v!, '-g');
      else if (o === 'l') len = num(v!, '-l');
      else skip = num(v!, '-s');
    }
    if (rest.length > 1) throw new UsageError('at most one FILE');
    const bytes = readBinary('xxd', rest, io, filesOf(ctx, sh));
    if (bytes === null) return 2;
    const data = bytes.subarray(Math.min(skip, bytes.length), Math.min(bytes.length, skip + len));
    const hex = (b: number): string => {
      const h = b.toString(16).padStart(2, '0');
      return upper ? h.toUpperCase() : h;
    };
    let out = '';
    if (plain) {
      const c = cols ?? 30;
      for (let i = 0; i < data.length; i += c) out += [...data.subarray(i, i + c)].map(hex).join('') + '\n';
      put(io, out);
      return 0;
    }
    const c = cols ?? 16;
    const g = group ?? 2;
    const width = c * 2 + (g > 0 ? Math.ceil(c / g) : 1);
    for (let i = 0; i < data.length; i += c) {
      const line = data.subarray(i, i + c);
      let h = '';
      line.forEach((b, j) => { h += hex(b) + (g > 0 && (j + 1) % g === 0 ? ' ' : ''); });
      const ascii = [...line].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
      out += `${(skip + i).toString(16).padStart(8, '0')}: ${h.padEnd(width)} ${ascii}\n`;
    }
    put(io, out);
    return 0;
  },
};
