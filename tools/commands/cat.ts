/**
 * cat: print files (/proc, /sys, /dev) the way coreutils' cat does: open(2) each as
 * the shell's process, read(2) to the end, close(2). The kernel checks the opener
 * (a file's mode, a driver's capability checks, procfs's per-reader views such as
 * /proc/keys and /proc/iomem). A file that cannot be read is reported as coreutils
 * does ("cat: F: No such file or directory"); the others are still printed, and the
 * status is then 1. At most 1 MiB is printed from one file.
 */
import { strerror } from '../../kernel/errno.js';
import { O_RDONLY } from '../../fs/open.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { read_all, with_open } from '../lib/file.js';

export const catCommand: Command<KernelShellContext> = {
  name: 'cat',
  usage: 'cat FILE...',
  summary: 'print /proc, /sys and /dev files',
  run(ctx, args, io) {
    if (args.length === 0) throw new UsageError('missing FILE');
    let status = 0;
    const decoder = new TextDecoder();
    for (const path of args) {
      const r = with_open(ctx, path, O_RDONLY, (fd) => read_all(fd));
      const err = !r.ok ? r.errno : typeof r.value === 'number' ? r.value : 0;
      if (err) {
        io.err(`cat: ${path}: ${strerror(err)}\n`);
        status = 1;
      } else if (r.ok && typeof r.value !== 'number') {
        io.out(decoder.decode(r.value));
      }
    }
    return status;
  },
};
