/**
 * loop: a cache-resident loop, the workload where memory encryption costs nothing. A
 * user process sums SIZE bytes (default 16 KiB, well inside one package's cache) with
 * one 8-byte load per line, PASSES times (default 100), after one untimed pass that
 * brings the buffer into the cache. Every timed load hits, and the engine below the
 * cache never sees it (arch/x86/hw/timing.ts), so the cycles are the same under every
 * KeyID. `-k SERIAL` puts the buffer under that mktme key.
 *
 *   loop: 16384 bytes x 100 passes: 128000 cycles, 1280.0 cycles/pass, 5.000 cycles/load
 */
import type { Command } from '../registry.js';
import { CommandError, UsageError } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { getopt } from '../context.js';
import { parseIntIn, parseSize } from '../lib/parse.js';
import { parse_serial, rdtsc, uload, ustore, with_arena } from '../lib/workload.js';

const LINE = 64;
const MAX_SIZE = 64 * 1024 * 1024;

export const loopCommand: Command<KernelShellContext> = {
  name: 'loop',
  usage: 'loop [-k SERIAL] [SIZE [PASSES]]',
  summary: 'a cache-resident loop as a user process: cycles per load, in virtual time',
  help: 'SIZE: bytes, K/M suffixes (default 16K); PASSES: 1..100000 (default 100).\n' +
    '-k: the buffer under this mktme key.',
  run(ctx, args, io) {
    const o = getopt(args, 'k:');
    let serial: number | null = null;
    for (const [, arg] of o.opts) serial = parse_serial(arg!);
    if (o.rest.length > 2) throw new UsageError('too many arguments');
    let size = 16 * 1024;
    if (o.rest.length >= 1) {
      const r = parseSize(o.rest[0]);
      if (!r.ok || r.value < LINE || r.value > MAX_SIZE || r.value % LINE) {
        throw new UsageError(`SIZE must be a multiple of ${LINE} in ${LINE}..64M, not '${o.rest[0]}'`);
      }
      size = r.value;
    }
    let passes = 100;
    if (o.rest.length === 2) {
      const r = parseIntIn(o.rest[1], 1, 100_000, 'PASSES');
      if (!r.ok) throw new UsageError(r.error);
      passes = r.value;
    }
    const { cycles, sum } = with_arena(ctx, size, serial, (ar) => {
      const ones = new Uint8Array(LINE);
      ones[0] = 1;
      for (let off = 0; off < size; off += LINE) ustore(ar, off, ones); // and warms the cache
      let s = 0;
      const t0 = rdtsc(ctx);
      for (let p = 0; p < passes; p++) {
        for (let off = 0; off < size; off += LINE) s += uload(ar, off, 8)[0];
      }
      return { cycles: rdtsc(ctx) - t0, sum: s };
    });
    const loads = passes * (size / LINE);
    if (sum !== loads) throw new CommandError(`wrong sum ${sum} (expected ${loads})`); // the memory lost data
    io.out(`loop: ${size} bytes x ${passes} passes: ${cycles} cycles, ${(cycles / passes).toFixed(1)} cycles/pass, ` +
      `${(cycles / loads).toFixed(3)} cycles/load\n`);
    return 0;
  },
};
