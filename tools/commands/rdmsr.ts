/**
 * rdmsr: read a model-specific register through the kernel's MSR driver
 * (/dev/cpu/N/msr), as msr-tools 1.3's rdmsr does: its options (getopt_long, long names
 * included), output formats, words and exit statuses:
 *   0 success; 2 `rdmsr: No CPU N` (an offline CPU's node); 3 `rdmsr: CPU N doesn't support MSRs`;
 *   4 `rdmsr: CPU N cannot read MSR 0x%08x` (#GP in the kernel, -EIO);
 *   127 usage, a bad option, and any other open/pread error (`rdmsr: open: strerror`;
 *   a CPU that does not exist has no /dev/cpu/N/msr: `No such file or directory`).
 * The register number is strtoul(regno, NULL, 0), unchecked, as in 1.3: `rdmsr foo`
 * reads MSR 0. The tool runs in the shell's process under the name it would exec as.
 *
 *   -p CPU  processor (default 0, at most 255)  -a  every online processor, one a line
 *   -x  hex (default)  -X  upper-case hex  -d  signed decimal  -u  unsigned  -o  octal
 *   -c  as a C constant (0x / 0 / U)  -0  zero-pad to the field width  -r  raw bytes
 *   -f H:L  only bits H..L   -h  help   -V  version
 */
import { online_cpus } from '../../arch/x86/kernel/smpboot.js';
import { O_RDONLY } from '../../fs/open.js';
import type { Command, ShellIo } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { EIO, strerror } from '../../kernel/errno.js';
import { pread_full, with_open } from '../lib/file.js';
import { writeBytes } from '../lib/io.js';
import { getopt_long, type LongOption } from '../lib/getopt_long.js';
import { strtoul, toUint32 } from '../lib/strtoul.js';
import { asTool, msrOpenFailed } from './msr_tool.js';

/** msr-tools' VERSION_STRING. */
export const MSR_TOOLS_VERSION = 'msr-tools-1.3';

type Base = 'hex' | 'chx' | 'dec' | 'uns' | 'oct' | 'raw';
/** Digits of 2^n - 1 in decimal (msr-tools' decdigits[]). */
function decdigits(n: number): number {
  return n === 0 ? 1 : ((1n << BigInt(n)) - 1n).toString().length;
}

function pad(s: string, width: number): string {
  if (s.startsWith('-')) return '-' + s.slice(1).padStart(width - 1, '0');
  return s.padStart(width, '0');
}

/**
 * The value as msr-tools' rdmsr prints it (its printf patterns, case by case), newline
 * included; -r without -c is its 8 bytes, little-endian (fwrite), as bytes.
 */
function formatMsr(raw: bigint, base: Base, c: boolean, fill: boolean, high = 63, low = 0): string | Uint8Array {
  const bits = high - low + 1;
  let data = raw;
  if (bits < 64) data = (data >> BigInt(low)) & ((1n << BigInt(bits)) - 1n);
  switch (base) {
    case 'raw': {
      // fwrite(&data, 8, 1, stdout), or with -c the bytes as a C initialiser.
      const bytes = Array.from({ length: 8 }, (_, i) => Number((data >> BigInt(8 * i)) & 0xffn));
      if (c) return '{' + bytes.map((b) => '0x' + b.toString(16).padStart(2, '0')).join(',') + '}\n';
      return Uint8Array.from(bytes);
    }
    case 'hex':
    case 'chx': {
      let s = data.toString(16);
      if (base === 'chx') s = s.toUpperCase();
      if (fill) s = pad(s, Math.floor((bits + 3) / 4));
      return (c ? '0x' : '') + s + '\n';
    }
    case 'dec': {
      // "Make sure we get sign correct": clear the top bit and negate (msr-tools' rule).
      const top = 1n << BigInt(bits - 1);
      if (data & top) data = BigInt.asIntN(64, -(data & ~top));
      const s = data.toString();
      return (fill && !c ? pad(s, decdigits(bits - 1) + 1) : s) + '\n';
    }
    case 'uns': {
      const s = data.toString();
      if (c) return s + 'U\n';
      return (fill ? pad(s, decdigits(bits)) : s) + '\n';
    }
    default: { // oct
      let s = data.toString(8);
      if (fill) s = pad(s, Math.floor((bits + 2) / 3));
      return (c ? '0' : '') + s + '\n';
    }
  }
}

const LONG: LongOption[] = [
  { name: 'help', has_arg: 0, val: 'h' }, { name: 'version', has_arg: 0, val: 'V' },
  { name: 'hexadecimal', has_arg: 0, val: 'x' }, { name: 'capital-hexadecimal', has_arg: 0, val: 'X' },
  { name: 'decimal', has_arg: 0, val: 'd' }, { name: 'signed-decimal', has_arg: 0, val: 'd' },
  { name: 'unsigned-decimal', has_arg: 0, val: 'u' }, { name: 'octal', has_arg: 0, val: 'o' },
  { name: 'c-language', has_arg: 0, val: 'c' }, { name: 'zero-fill', has_arg: 0, val: '0' },
  { name: 'zero-pad', has_arg: 0, val: '0' }, { name: 'raw', has_arg: 0, val: 'r' },
  { name: 'all', has_arg: 0, val: 'a' }, { name: 'processor', has_arg: 1, val: 'p' },
  { name: 'cpu', has_arg: 1, val: 'p' }, { name: 'bitfield', has_arg: 1, val: 'f' },
];

export const RDMSR_USAGE =
  'Usage: rdmsr [options] regno\n' +
  '  --help         -h  Print this help\n' +
  '  --version      -V  Print current version\n' +
  '  --hexadecimal  -x  Hexadecimal output (lower case)\n' +
  '  --capital-hex  -X  Hexadecimal output (upper case)\n' +
  '  --decimal      -d  Signed decimal output\n' +
  '  --unsigned     -u  Unsigned decimal output\n' +
  '  --octal        -o  Octal output\n' +
  '  --c-language   -c  Format output as a C language constant\n' +
  '  --zero-pad     -0  Output leading zeroes\n' +
  '  --raw          -r  Raw binary output\n' +
  '  --all          -a  all processors\n' +
  '  --processor #  -p  Select processor number (default 0)\n' +
  '  --bitfield h:l -f  Output bits [h:l] only\n';

/** `-p`: strtoul(optarg, &end, 0), at most 255; null if not. */
export function parseMsrCpu(arg: string): number | null {
  const r = strtoul(arg, 0);
  return r.end !== arg.length || r.value > 255n ? null : Number(r.value);
}

function rdmsr(ctx: KernelShellContext, args: string[], io: ShellIo): number {
  const usage = (status: number): number => { io.err(RDMSR_USAGE); return status; };
  const g = getopt_long('rdmsr', args, 'hVxXdoruc0ap:f:', LONG, io.err);
  let base: Base = 'hex';
  let c = false, fill = false;
  let cpu = 0;
  let high = 63, low = 0;
  for (const [o, arg] of g.opts) {
    switch (o) {
      case 'h': return usage(0);
      case 'V': io.err(`rdmsr: version ${MSR_TOOLS_VERSION}\n`); return 0;
      case 'x': base = 'hex'; break;
      case 'X': base = 'chx'; break;
      case 'o': base = 'oct'; break;
      case 'd': base = 'dec'; break;
      case 'r': base = 'raw'; break;
      case 'u': base = 'uns'; break;
      case 'c': c = true; break;
      case '0': fill = true; break;
      case 'a': cpu = -1; break;
      case 'p': {
        const v = parseMsrCpu(arg!);
        if (v === null) return usage(127);
        cpu = v;
        break;
      }
      case 'f': {
        // sscanf("%u:%u") reads leading digits of each half.
        const m = /^\s*\+?(\d+):\s*\+?(\d+)/.exec(arg!);
        if (!m || Number(m[1]) > 63 || Number(m[2]) > Number(m[1])) return usage(127);
        high = Number(m[1]);
        low = Number(m[2]);
        break;
      }
      default: return usage(127);
    }
  }
  if (g.rest.length !== 1) return usage(127);
  const reg = toUint32(strtoul(g.rest[0], 0).value);
  for (const on of cpu === -1 ? online_cpus() : [cpu]) {
    // open("/dev/cpu/N/msr", O_RDONLY), then pread(fd, &data, 8, reg)
    const buf = new Uint8Array(8);
    const r = with_open(ctx, `/dev/cpu/${on}/msr`, O_RDONLY, (fd) => pread_full(fd, buf, reg));
    if (!r.ok) return msrOpenFailed('rdmsr', on, r.errno, io);
    if (r.value === EIO) { io.err(`rdmsr: CPU ${on} cannot read MSR 0x${reg.toString(16).padStart(8, '0')}\n`); return 4; }
    if (r.value) { io.err(`rdmsr: pread: ${strerror(r.value)}\n`); return 127; }
    const out = formatMsr(new DataView(buf.buffer).getBigUint64(0, true), base, c, fill, high, low);
    if (typeof out === 'string') io.out(out);
    else writeBytes(io, out);
  }
  return 0;
}

export const rdmsrCommand: Command<KernelShellContext> = {
  name: 'rdmsr',
  usage: 'rdmsr [options] regno',
  summary: 'read a model-specific register (msr-tools 1.3)',
  help: RDMSR_USAGE.split('\n').slice(1).join('\n').trimEnd(),
  run(ctx, args, io) { return asTool(ctx, 'rdmsr', () => rdmsr(ctx, args, io)); },
};
