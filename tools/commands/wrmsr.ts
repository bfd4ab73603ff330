/**
 * wrmsr: write a model-specific register through the kernel's MSR driver
 * (/dev/cpu/N/msr), msr-tools' syntax: `wrmsr [-p CPU | -a] MSR VALUE...` (several
 * values are written one after another). A refused write (#GP in the kernel, -EIO)
 * prints msr-tools' words, "wrmsr: CPU N cannot set MSR 0x%08x to 0x%016llx", and the
 * status is 1.
 */
import { online_cpus } from '../../arch/x86/kernel/smpboot.js';
import { O_WRONLY } from '../../fs/open.js';
import { sys_pwrite64 } from '../../fs/read_write.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { getopt, parseCNumber, parseCpuArg, type KernelShellContext } from '../context.js';
import { EIO, ENXIO, strerror } from '../../kernel/errno.js';
import { with_open } from '../lib/file.js';


export const wrmsrCommand: Command<KernelShellContext> = {
  name: 'wrmsr',
  usage: 'wrmsr [-a] [-p CPU] MSR VALUE...',
  summary: 'write a model-specific register (msr-tools)',
  help: 'MSR, VALUE and CPU are decimal, 0x hex or 0 octal; VALUE is 64-bit.',
  run(ctx, args) {
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
      // msr-tools: open("/dev/cpu/N/msr", O_WRONLY), then pwrite(fd, &data, 8, reg) per value
      const r = with_open(ctx, `/dev/cpu/${on}/msr`, O_WRONLY, (fd) => {
        for (const v of values) {
          const buf = new Uint8Array(8);
          new DataView(buf.buffer).setBigUint64(0, v, true);
          const n = sys_pwrite64(fd, buf, msr);
          if (n !== 8) return { v, errno: n < 0 ? -n : EIO };
        }
        return null;
      });
      if (!r.ok) {
        if (r.errno === ENXIO) throw new CommandError(`No CPU ${on}`);
        if (r.errno === EIO) throw new CommandError(`CPU ${on} doesn't support MSRs`);
        throw new CommandError(`open: ${strerror(r.errno)}`);
      }
      if (r.value && r.value.errno === EIO) {
        throw new CommandError(`CPU ${on} cannot set MSR 0x${msr.toString(16).padStart(8, '0')} ` +
          `to 0x${r.value.v.toString(16).padStart(16, '0')}`);
      }
      if (r.value) throw new CommandError(`pwrite: ${strerror(r.value.errno)}`);
    }
    return 0;
  },
};
