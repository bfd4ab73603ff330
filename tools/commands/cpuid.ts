/**
 * cpuid: Todd Allen's `cpuid` (the one distributions ship), raw mode, through the
 * kernel's CPUID driver (/dev/cpu/N/cpuid; its -k mode):
 *
 *   cpuid -1 -r -l 7 -s 0    CPU:
 *                               0x00000007 0x00: eax=0x00000000 ebx=0x... ecx=... edx=...
 *   cpuid -r                 every CPU ("CPU 0:" ...), every leaf and subleaf
 *
 * Options: -1/--one-cpu (the CPU the shell runs on), -c/--cpu N, -l/--leaf, -s/--subleaf
 * (needs -l), -r/--raw, -k/--kernel and -i/--inst (both read through the driver here),
 * -h/--help, -V/--version. This tree prints the raw form also without -r: the decoded
 * report is not implemented (README). An operand is an error, as in cpuid
 * (`cpuid: unrecognized argument: 7`); the older `cpuid LEAF` form of this tree is gone
 * because it collides with that.
 */
import { strerror } from '../../kernel/errno.js';
import { cpuid_read } from '../../arch/x86/kernel/cpuid.js';
import { online_cpus } from '../../arch/x86/kernel/smpboot.js';
import { smp_processor_id } from '../../arch/x86/include/asm/processor.js';
import type { Command, ShellIo } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { getopt_long, type LongOption } from '../lib/getopt_long.js';
import { strtoul } from '../lib/strtoul.js';
import { asTool } from './msr_tool.js';

const LONG: LongOption[] = [
  { name: 'one-cpu', has_arg: 0, val: '1' }, { name: 'cpu', has_arg: 1, val: 'c' },
  { name: 'file', has_arg: 1, val: 'f' }, { name: 'leaf', has_arg: 1, val: 'l' },
  { name: 'subleaf', has_arg: 1, val: 's' }, { name: 'help', has_arg: 0, val: 'h' },
  { name: 'inst', has_arg: 0, val: 'i' }, { name: 'kernel', has_arg: 0, val: 'k' },
  { name: 'raw', has_arg: 0, val: 'r' }, { name: 'debug', has_arg: 0, val: 'd' },
  { name: 'version', has_arg: 0, val: 'V' },
];

export const CPUID_USAGE =
  'usage: cpuid [options...]\n' +
  '\n' +
  'Dump information about the CPU(s) gathered from the CPUID instruction.\n' +
  '\n' +
  'options:\n' +
  '\n' +
  '   -1,      --one-cpu    display information only for the current CPU\n' +
  '   -c V,    --cpu=V      display information only for CPU V\n' +
  '   -l V,    --leaf=V     display information for the single specified leaf.\n' +
  '                         If -s/--subleaf is not specified, 0 is assumed.\n' +
  '   -s V,    --subleaf=V  display information for the single specified subleaf.\n' +
  '                         It requires -l/--leaf.\n' +
  '   -h, -H,  --help       display this help information\n' +
  '   -i,      --inst       use the CPUID instruction (read through the kernel here)\n' +
  '   -k,      --kernel     use the CPUID kernel module (/dev/cpu/N/cpuid)\n' +
  '   -r,      --raw        display raw hex information with no decoding\n' +
  '   -V,      --version    display cpuid version\n';

const hex8 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');
const hex2 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(2, '0');

/** The subleaves cpuid's raw dump shows for a leaf, given subleaf 0's registers. */
function subleaves(leaf: number, read: (sub: number) => { eax: number; ecx: number }): number[] {
  const s0 = read(0);
  const upTo = (n: number): number[] => Array.from({ length: Math.min(n, 63) + 1 }, (_, i) => i);
  const until = (done: (r: { eax: number; ecx: number }) => boolean): number[] => {
    const out: number[] = [];
    for (let i = 0; i < 64; i++) { out.push(i); if (done(read(i))) break; }
    return out;
  };
  switch (leaf) {
    case 0x4: return until((r) => (r.eax & 0x1f) === 0);             // cache type null ends
    case 0x7: case 0x14: case 0x17: case 0x18: case 0x20: return upTo(s0.eax >>> 0); // EAX = max subleaf
    case 0xb: case 0x1f: return until((r) => ((r.ecx >>> 8) & 0xff) === 0); // level type invalid ends
    case 0xd: case 0xf: case 0x10: return [0, 1];
    case 0x1b: return until((r) => (r.eax & 0xfff) === 0);           // PCONFIG: invalid subleaf ends
    default: return [0];
  }
}

function cpuid(args: string[], io: ShellIo): number {
  const g = getopt_long('cpuid', args, '1c:df:hHikl:rs:V', LONG, io.err);
  let one = false, cpu: number | null = null, leaf: number | null = null, sub: number | null = null;
  const num = (arg: string, what: string): number | null => {
    const r = strtoul(arg, 0);
    if (r.end !== arg.length || r.value > 0xffffffffn) {
      io.err(`cpuid: ${what} must be a number: ${arg}\n`);
      return null;
    }
    return Number(r.value);
  };
  for (const [o, arg] of g.opts) {
    switch (o) {
      case '1': one = true; break;
      case 'c': { const v = num(arg!, '-c/--cpu'); if (v === null) return 1; cpu = v; break; }
      case 'l': { const v = num(arg!, '-l/--leaf'); if (v === null) return 1; leaf = v; break; }
      case 's': { const v = num(arg!, '-s/--subleaf'); if (v === null) return 1; sub = v; break; }
      case 'h': case 'H': io.out(CPUID_USAGE); return 0;
      case 'V': io.out('cpuid version 20230614 (mktme-kernel: raw output only)\n'); return 0;
      case 'f': io.err(`cpuid: ${arg}: reading a raw dump is not supported here\n`); return 1;
      case 'i': case 'k': case 'r': case 'd': break;
      default: io.err(CPUID_USAGE); return 1;
    }
  }
  if (g.rest.length) { io.err(`cpuid: unrecognized argument: ${g.rest[0]}\n`); return 1; }
  if (sub !== null && leaf === null) {
    io.err('cpuid: -s/--subleaf requires that -l/--leaf also be specified\n');
    return 1;
  }
  const cpus = one ? [smp_processor_id()] : cpu !== null ? [cpu] : online_cpus();
  for (const c of cpus) {
    const read = (l: number, s: number): { eax: number; ebx: number; ecx: number; edx: number } => {
      const r = cpuid_read(c, l, s);
      if (r.err) throw new CpuidError(`cpuid: CPU ${c}: ${strerror(r.err)}`);
      return r.regs;
    };
    let out = one ? 'CPU:\n' : `CPU ${c}:\n`;
    const line = (l: number, s: number): void => {
      const r = read(l, s);
      out += `   ${hex8(l)} ${hex2(s)}: eax=${hex8(r.eax)} ebx=${hex8(r.ebx)} ecx=${hex8(r.ecx)} edx=${hex8(r.edx)}\n`;
    };
    try {
      if (leaf !== null) {
        line(leaf, sub ?? 0);
      } else {
        for (const base of [0, 0x80000000]) {
          const max = read(base, 0).eax >>> 0;
          for (let l = base; l <= max && l - base < 0x100; l++) {
            for (const s of subleaves(l, (x) => read(l, x))) line(l, s);
          }
        }
        line(0x80860000, 0);
        line(0xc0000000, 0);
      }
    } catch (e) {
      if (!(e instanceof CpuidError)) throw e;
      io.err(`${e.message}\n`);
      return 1;
    }
    io.out(out);
  }
  return 0;
}

class CpuidError extends Error {}

export const cpuidCommand: Command<KernelShellContext> = {
  name: 'cpuid',
  usage: 'cpuid [options...]',
  summary: 'dump CPUID leaves (Todd Allen\'s cpuid, raw: cpuid -1 -r -l LEAF -s SUB)',
  help: CPUID_USAGE.split('\n').slice(6).join('\n').trimEnd(),
  run(ctx, args, io) { return asTool(ctx, 'cpuid', () => cpuid(args, io)); },
};
