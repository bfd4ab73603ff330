/**
 * cpuid: execute CPUID with a leaf (and subleaf) on one CPU, through the kernel's CPUID
 * driver (/dev/cpu/N/cpuid), and print the four registers:
 *   eax=0x000606a6 ebx=0x00020800 ecx=0x7ffaf2bf edx=0xbfebfbff
 */
import { strerror } from '../../kernel/errno.js';
import { cpuid_read } from '../../arch/x86/kernel/cpuid.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { getopt, parseCNumber, parseCpuArg, type KernelShellContext } from '../context.js';

const hex8 = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

export const cpuidCommand: Command<KernelShellContext> = {
  name: 'cpuid',
  usage: 'cpuid [-c CPU] LEAF [SUBLEAF]',
  summary: 'run CPUID on a CPU',
  help: 'LEAF and SUBLEAF are decimal, 0x hex or 0 octal; CPU defaults to 0.',
  run(_ctx, args, io) {
    const g = getopt(args, 'c:');
    let cpu = 0;
    for (const [, arg] of g.opts) cpu = parseCpuArg(arg!);
    if (g.rest.length < 1 || g.rest.length > 2) throw new UsageError(g.rest.length ? 'too many arguments' : 'missing LEAF');
    const [leaf, subleaf] = g.rest.map((s, i) => {
      const v = parseCNumber(s, 0xffffffffn);
      if (v === null) throw new UsageError(`${i ? 'SUBLEAF' : 'LEAF'} must be a 32-bit number, not '${s}'`);
      return Number(v);
    });
    const r = cpuid_read(cpu, leaf, subleaf ?? 0);
    if (r.err) throw new CommandError(`CPU ${cpu}: ${strerror(r.err)}`);
    const { eax, ebx, ecx, edx } = r.regs;
    io.out(`eax=${hex8(eax)} ebx=${hex8(ebx)} ecx=${hex8(ecx)} edx=${hex8(edx)}\n`);
    return 0;
  },
};
