/**
 * rdmsr: read a model-specific register through the kernel's MSR driver
 * (/dev/cpu/N/msr), with msr-tools' options and output: lowercase hex without 0x by
 * default. A refused read (#GP in the kernel, -EIO) prints msr-tools' words,
 * "rdmsr: CPU N cannot read MSR 0x%08x", and the status is 1.
 *
 *   -p CPU  processor (default 0)     -a  every online processor, one value a line
 *   -x  hex (default)  -X  upper-case hex  -d  signed decimal  -u  unsigned  -o  octal
 *   -c  as a C constant (0x / 0 / U)  -0  zero-pad to the field width
 *   -f H:L  only bits H..L
 */
import { online_cpus } from '../../arch/x86/kernel/smpboot.js';
import { O_RDONLY } from '../../fs/open.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { getopt, parseCNumber, parseCpuArg, type KernelShellContext } from '../context.js';
import { EIO, ENXIO, strerror } from '../../kernel/errno.js';
import { pread_full, with_open } from '../lib/file.js';


type Base = 'hex' | 'chx' | 'dec' | 'uns' | 'oct';

/** Digits of 2^n - 1 in decimal (msr-tools' decdigits[]). */
function decdigits(n: number): number {
  return n === 0 ? 1 : ((1n << BigInt(n)) - 1n).toString().length;
}

function pad(s: string, width: number): string {
  if (s.startsWith('-')) return '-' + s.slice(1).padStart(width - 1, '0');
  return s.padStart(width, '0');
}

/** The value as msr-tools' rdmsr prints it (its printf patterns, case by case). */
export function formatMsr(raw: bigint, base: Base, c: boolean, fill: boolean, high = 63, low = 0): string {
  const bits = high - low + 1;
  let data = raw;
  if (bits < 64) data = (data >> BigInt(low)) & ((1n << BigInt(bits)) - 1n);
  switch (base) {
    case 'hex':
    case 'chx': {
      let s = data.toString(16);
      if (base === 'chx') s = s.toUpperCase();
      if (fill) s = pad(s, Math.floor((bits + 3) / 4));
      return (c ? '0x' : '') + s;
    }
    case 'dec': {
      // "Make sure we get sign correct": clear the top bit and negate (msr-tools' rule).
      const top = 1n << BigInt(bits - 1);
      if (data & top) data = BigInt.asIntN(64, -(data & ~top));
      const s = data.toString();
      return fill && !c ? pad(s, decdigits(bits - 1) + 1) : s;
    }
    case 'uns': {
      const s = data.toString();
      if (c) return s + 'U';
      return fill ? pad(s, decdigits(bits)) : s;
    }
    default: { // oct
      let s = data.toString(8);
      if (fill) s = pad(s, Math.floor((bits + 2) / 3));
      return (c ? '0' : '') + s;
    }
  }
}

export const rdmsrCommand: Command<KernelShellContext> = {
  name: 'rdmsr',
  usage: 'rdmsr [-xXduoc0a] [-p CPU] [-f H:L] MSR',
  summary: 'read a model-specific register (msr-tools)',
  help: 'MSR and CPU are decimal, 0x hex or 0 octal. Output defaults to lower-case hex without 0x.',
  run(ctx, args, io) {
    const g = getopt(args, 'xXduoc0ap:f:');
    let base: Base = 'hex';
    let c = false;
    let fill = false;
    let all = false;
    let cpu = 0;
    let high = 63;
    let low = 0;
    for (const [o, arg] of g.opts) {
      switch (o) {
        case 'x': base = 'hex'; break;
        case 'X': base = 'chx'; break;
        case 'd': base = 'dec'; break;
        case 'u': base = 'uns'; break;
        case 'o': base = 'oct'; break;
        case 'c': c = true; break;
        case '0': fill = true; break;
        case 'a': all = true; break;
        case 'p': cpu = parseCpuArg(arg!); break;
        default: { // f
          const m = /^([0-9]+):([0-9]+)$/.exec(arg!);
          if (!m || Number(m[1]) > 63 || Number(m[2]) > Number(m[1])) {
            throw new UsageError(`bad bitfield '${arg}' (H:L with 63 >= H >= L)`);
          }
          high = Number(m[1]);
          low = Number(m[2]);
        }
      }
    }
    if (g.rest.length !== 1) throw new UsageError(g.rest.length ? 'too many arguments' : 'missing MSR');
    const reg = parseCNumber(g.rest[0], 0xffffffffn);
    if (reg === null) throw new UsageError(`MSR must be a 32-bit number, not '${g.rest[0]}'`);
    const msr = Number(reg);
    for (const on of all ? online_cpus() : [cpu]) {
      // msr-tools: open("/dev/cpu/N/msr", O_RDONLY), then pread(fd, &data, 8, reg)
      const buf = new Uint8Array(8);
      const r = with_open(ctx, `/dev/cpu/${on}/msr`, O_RDONLY, (fd) => pread_full(fd, buf, msr));
      if (!r.ok) {
        if (r.errno === ENXIO) throw new CommandError(`No CPU ${on}`);
        if (r.errno === EIO) throw new CommandError(`CPU ${on} doesn't support MSRs`);
        throw new CommandError(`open: ${strerror(r.errno)}`);
      }
      if (r.value === EIO) throw new CommandError(`CPU ${on} cannot read MSR 0x${msr.toString(16).padStart(8, '0')}`);
      if (r.value) throw new CommandError(`pread: ${strerror(r.value)}`);
      io.out(formatMsr(new DataView(buf.buffer).getBigUint64(0, true), base, c, fill, high, low) + '\n');
    }
    return 0;
  },
};

