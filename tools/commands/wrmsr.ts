/**
 * wrmsr: write a model-specific register through the kernel's MSR driver
 * (/dev/cpu/N/msr), msr-tools' syntax: `wrmsr [-p CPU | -a] MSR VALUE...` (several
 * values are written one after another). A refused write (#GP in the kernel, -EIO)
 * prints msr-tools' words, "wrmsr: CPU N cannot set MSR 0x%08x to 0x%016llx", and the
 * status is 1.
 */
import { msr_open, msr_write } from '../../arch/x86/kernel/msr.js';
import { online_cpus } from '../../arch/x86/kernel/smpboot.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { getopt, parseCNumber, parseCpuArg, type KernelShellContext } from '../context.js';
import { ENXIO } from '../../kernel/errno.js';


export const wrmsrCommand: Command<KernelShellContext> = {
  name: 'wrmsr',
  usage: 'wrmsr [-a] [-p CPU] MSR VALUE...',
  summary: 'write a model-specific register (msr-tools)',
  help: 'MSR, VALUE and CPU are decimal, 0x hex or 0 octal; VALUE is 64-bit.',
  run(_ctx, args) {
    const g = getopt(args, 'ap:');
    let all = false;
    let cpu = 0;
    for (const [o, arg] of g.opts) {
      if (o === 'a') all = true;
      else cpu = parseCpuArg(arg!);
    }
    if (g.rest.length < 2) throw new UsageError(g.rest.length ? 'missing VALUE' : 'missing MSR and VALUE');
    const reg = parseCNumber(g.rest[0], 0xffffffffn);
    if (reg === null) throw new UsageError(`MSR must be a 32-bit number, not '${g.rest[0]}'`);
    const values = g.rest.slice(1).map((s) => {
      const v = parseCNumber(s);
      if (v === null) throw new UsageError(`VALUE must be a 64-bit number, not '${s}'`);
      return v;
    });
    const msr = Number(reg);
    for (const on of all ? online_cpus() : [cpu]) {
      const open = msr_open(on);
      if (open === -ENXIO) throw new CommandError(`No CPU ${on}`);
      if (open) throw new CommandError(`CPU ${on} doesn't support MSRs`);
      for (const v of values) {
        if (msr_write(on, msr, v)) {
          throw new CommandError(`CPU ${on} cannot set MSR 0x${msr.toString(16).padStart(8, '0')} ` +
            `to 0x${v.toString(16).padStart(16, '0')}`);
        }
      }
    }
    return 0;
  },
};
