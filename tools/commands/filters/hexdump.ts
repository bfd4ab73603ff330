/**
 * hexdump [-C] [-v] [-n LEN] [-s OFFSET] [FILE...]: util-linux hexdump. -C is the
 * canonical layout ("00000000  68 65 6c 6c 6f 0a  |hello.|"); without it, 16-bit
 * little-endian words. A run of identical lines is shown as one `*` unless -v; the
 * last line is the total length.
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

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

export const hexdumpCommand: Command<unknown> = {
  name: 'hexdump',
  usage: 'hexdump [-C] [-v] [-n LEN] [-s OFFSET] [FILE...]',
  summary: 'hex dump of bytes (-C: canonical hex+ASCII)',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'Cvn:s:');
    let canonical = false;
    let verbose = false;
    let len = Infinity;
    let skip = 0;
    for (const [o, v] of opts) {
      if (o === 'C') canonical = true;
      else if (o === 'v') verbose = true;
      else if (o === 'n') len = num(v!, '-n');
      else skip = num(v!, '-s');
    }
    const bytes = readBinary('hexdump', rest, io, filesOf(ctx, sh));
    if (bytes === null) return 1;
    const data = bytes.subarray(Math.min(skip, bytes.length), Math.min(bytes.length, skip + len));
    if (data.length === 0) return 0;
    let out = '';
    let prev: string | null = null;
    let starred = false;
    for (let i = 0; i < data.length; i += 16) {
      const line = data.subarray(i, i + 16);
      const key = line.length === 16 ? Buffer.from(line).toString('hex') : null;
      if (!verbose && key !== null && key === prev) {
        if (!starred) out += '*\n';
        starred = true;
        continue;
      }
      prev = key;
      starred = false;
      const at = skip + i;
      if (canonical) {
        let h = '';
        for (let j = 0; j < 16; j++) h += (j < line.length ? hex2(line[j]) + ' ' : '   ') + (j === 7 ? ' ' : '');
        const ascii = [...line].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
        out += `${at.toString(16).padStart(8, '0')}  ${h} |${ascii}|\n`;
      } else {
        let h = '';
        for (let j = 0; j < line.length; j += 2) h += ' ' + ((line[j + 1] ?? 0) * 256 + line[j]).toString(16).padStart(4, '0');
        out += `${at.toString(16).padStart(7, '0')}${h.padEnd(40)}\n`;
      }
    }
    const end = skip + data.length;
    out += (canonical ? end.toString(16).padStart(8, '0') : end.toString(16).padStart(7, '0')) + '\n';
    put(io, out);
    return 0;
  },
};
