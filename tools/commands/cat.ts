/**
 * cat: print files of the kernel's pseudo-filesystems (/proc, /sys) through vfs_read.
 * A file that cannot be read is reported as coreutils does ("cat: F: No such file or
 * directory"); the others are still printed, and the status is then 1.
 */
import { strerror } from '../../kernel/errno.js';
import { vfs_read } from '../../fs/proc/generic.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';

export const catCommand: Command<KernelShellContext> = {
  name: 'cat',
  usage: 'cat FILE...',
  summary: 'print /proc and /sys files',
  run(_ctx, args, io) {
    if (args.length === 0) throw new UsageError('missing FILE');
    let status = 0;
    for (const path of args) {
      const r = vfs_read(path);
      if (typeof r === 'number') {
        io.err(`cat: ${path}: ${strerror(r)}\n`);
        status = 1;
      } else {
        io.out(r);
      }
    }
    return status;
  },
};
