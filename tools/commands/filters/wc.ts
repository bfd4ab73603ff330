/**
 * wc [-clmw] [FILE...]: newline, word and byte counts, in coreutils' layout: one count
 * of one input unpadded; otherwise every column as wide as the total size of the
 * regular files needs (at least 7 when standard input is among them), and a total
 * line for several inputs. Words are runs of non-white-space (C locale).
 */
import type { Command } from '../../registry.js';
import { filesOf } from '../../lib/kernel_files.js';
import { getopt } from '../../lib/getopt.js';
import { put, readInputs } from './input.js';

export const wcCommand: Command<unknown> = {
  name: 'wc',
  usage: 'wc [-clmw] [FILE...]',
  summary: 'count lines, words and bytes',
  run(ctx, args, io, sh) {
    const { opts, rest } = getopt(args, 'clmw');
    let show = { l: false, w: false, c: false };
    for (const [o] of opts) {
      if (o === 'l') show.l = true;
      else if (o === 'w') show.w = true;
      else show.c = true; // -c and -m agree in the C locale
    }
    if (!show.l && !show.w && !show.c) show = { l: true, w: true, c: true };
    const { inputs, failed } = readInputs('wc', rest, io, filesOf(ctx, sh));
    const rows = inputs.map((inp) => ({
      name: inp.name === '-' && rest.length === 0 ? '' : inp.name,
      l: (inp.text.match(/\n/g) ?? []).length,
      w: (inp.text.match(/[^ \t\n\v\f\r]+/g) ?? []).length,
      c: inp.text.length,
    }));
    if (rows.length > 1) {
      rows.push({ name: 'total', l: sum(rows, 'l'), w: sum(rows, 'w'), c: sum(rows, 'c') });
    }
    const columns = (['l', 'w', 'c'] as const).filter((k) => show[k]);
    let width = 1;
    if (!(columns.length === 1 && inputs.length === 1)) {
      const regular = inputs.reduce((n, i) => n + (i.regularSize ?? 0), 0);
      width = String(regular).length;
      if (inputs.some((i) => i.regularSize === null)) width = Math.max(width, 7);
    }
    put(io, rows.map((r) => columns.map((k) => String(r[k]).padStart(width)).join(' ') + (r.name ? ` ${r.name}` : '') + '\n').join(''));
    return failed ? 1 : 0;
  },
};

function sum(rows: { l: number; w: number; c: number }[], k: 'l' | 'w' | 'c'): number {
  return rows.reduce((n, r) => n + r[k], 0);
}
