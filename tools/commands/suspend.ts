/**
 * suspend: suspend to RAM (S3) and wake up again, as `echo mem > /sys/power/state`
 * does: the shell's process opens /sys/power/state for writing (root's file, mode
 * 0644: anyone else gets "Permission denied") and writes "mem". The kernel writes back
 * the caches and checks that memory will survive; the machine sleeps (DRAM kept; CPUs,
 * caches and key tables reset; the BIOS restores the TME key saved for standby); the
 * kernel resumes and programs its KeyIDs again. Boot with `--bios savekey=on` to allow
 * it, and with `--append mktme_storekeys` so that type=user keys come back too. A
 * refusal or a lost KeyID is "suspend: REASON", status 1.
 */
import { strerror } from '../../kernel/errno.js';
import { O_WRONLY } from '../../fs/open.js';
import { sys_write } from '../../fs/read_write.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { with_open } from '../lib/file.js';

export const suspendCommand: Command<KernelShellContext> = {
  name: 'suspend',
  usage: 'suspend',
  summary: 'suspend to RAM (S3) and resume',
  run(ctx, args) {
    if (args.length) throw new UsageError();
    const r = with_open(ctx, '/sys/power/state', O_WRONLY, (fd) => sys_write(fd, new TextEncoder().encode('mem\n')));
    if (!r.ok) throw new CommandError(`/sys/power/state: ${strerror(r.errno)}`);
    if (r.value < 0) throw new CommandError(strerror(r.value));
    return 0;
  },
};
