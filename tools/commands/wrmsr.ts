/**
 * wrmsr: write a model-specific register through the kernel's MSR driver
 * (/dev/cpu/N/msr), as msr-tools 1.3's wrmsr does: `wrmsr [-a | -p CPU] regno value...`
 * (several values are written one after another), long options, and its exit statuses:
 *   0 success; 2 `wrmsr: No CPU N`; 3 `wrmsr: CPU N doesn't support MSRs`;
 *   4 `wrmsr: CPU N cannot set MSR 0x%08x to 0x%016llx` (#GP in the kernel, -EIO);
 *   127 usage, a bad option, any other open/pwrite error.
 * regno is strtoul(…, NULL, 0) and each value strtoull(…, NULL, 0), unchecked, as in
 * 1.3. The kernel logs every write (arch/x86/kernel/msr.ts, filter_write).
 */
import { online_cpus } from '../../arch/x86/kernel/smpboot.js';
import { O_WRONLY } from '../../fs/open.js';
import { sys_pwrite64 } from '../../fs/read_write.js';
import { with_open } from '../lib/file.js';
import type { Command, ShellIo } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { EIO, strerror } from '../../kernel/errno.js';
import { getopt_long, type LongOption } from '../lib/getopt_long.js';
import { strtoul, toUint32 } from '../lib/strtoul.js';
import { MSR_TOOLS_VERSION, parseMsrCpu } from './rdmsr.js';
import { asTool, msrOpenFailed } from './msr_tool.js';

const LONG: LongOption[] = [
  { name: 'help', has_arg: 0, val: 'h' }, { name: 'version', has_arg: 0, val: 'V' },
  { name: 'all', has_arg: 0, val: 'a' }, { name: 'processor', has_arg: 1, val: 'p' },
  { name: 'cpu', has_arg: 1, val: 'p' },
];

export const WRMSR_USAGE =
  'Usage: wrmsr [options] regno value...\n' +
  '  --help         -h  Print this help\n' +
  '  --version      -V  Print current version\n' +
  '  --all          -a  all processors\n' +
  '  --processor #  -p  Select processor number (default 0)\n';

function wrmsr(ctx: KernelShellContext, args: string[], io: ShellIo): number {
  const usage = (status: number): number => { io.err(WRMSR_USAGE); return status; };
  const g = getopt_long('wrmsr', args, 'hVap:', LONG, io.err);
  let cpu = 0;
  for (const [o, arg] of g.opts) {
    switch (o) {
      case 'h': return usage(0);
      case 'V': io.err(`wrmsr: version ${MSR_TOOLS_VERSION}\n`); return 0;
      case 'a': cpu = -1; break;
      case 'p': {
        const v = parseMsrCpu(arg!);
        if (v === null) return usage(127);
        cpu = v;
        break;
      }
      default: return usage(127);
    }
  }
  if (g.rest.length < 2) return usage(127);
  const reg = toUint32(strtoul(g.rest[0], 0).value);
  const hex = (v: bigint, w: number): string => v.toString(16).padStart(w, '0');
  for (const on of cpu === -1 ? online_cpus() : [cpu]) {
    // open("/dev/cpu/N/msr", O_WRONLY), then pwrite(fd, &data, 8, reg) per value
    const r = with_open(ctx, `/dev/cpu/${on}/msr`, O_WRONLY, (fd) => {
      for (const s of g.rest.slice(1)) {
        const data = strtoul(s, 0).value;
        const buf = new Uint8Array(8);
        new DataView(buf.buffer).setBigUint64(0, data, true);
        const n = sys_pwrite64(fd, buf, reg);
        if (n !== 8) return { data, errno: n < 0 ? -n : EIO };
      }
      return null;
    });
    if (!r.ok) return msrOpenFailed('wrmsr', on, r.errno, io);
    if (r.value && r.value.errno === EIO) {
      io.err(`wrmsr: CPU ${on} cannot set MSR 0x${hex(BigInt(reg), 8)} to 0x${hex(r.value.data, 16)}\n`);
      return 4;
    }
    if (r.value) { io.err(`wrmsr: pwrite: ${strerror(r.value.errno)}\n`); return 127; }
  }
  return 0;
}

export const wrmsrCommand: Command<KernelShellContext> = {
  name: 'wrmsr',
  usage: 'wrmsr [options] regno value...',
  summary: 'write a model-specific register (msr-tools 1.3)',
  help: WRMSR_USAGE.split('\n').slice(1).join('\n').trimEnd(),
  run(ctx, args, io) { return asTool(ctx, 'wrmsr', () => wrmsr(ctx, args, io)); },
};
