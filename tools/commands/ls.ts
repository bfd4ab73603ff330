/**
 * ls: list directories of the kernel's file systems, /proc, /sys and /dev (one name a
 * line, sorted; tools/lib/kernel_files.ts kernel_readdir).
 * With several arguments each directory gets a "DIR:" header, as in coreutils; a file
 * argument prints its own name. Missing paths: "ls: cannot access 'X': No such file or
 * directory", status 1.
 */
import { kernel_readdir } from '../lib/kernel_files.js';
import type { Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { ENOTDIR, strerror } from '../../kernel/errno.js';

export const lsCommand: Command<KernelShellContext> = {
  name: 'ls',
  usage: 'ls [DIR...]',
  summary: 'list /proc, /sys and /dev directories',
  run(_ctx, args, io) {
    const paths = args.length ? args : ['/'];
    let status = 0;
    const files: string[] = [];
    const dirs: [string, string[]][] = [];
    for (const p of paths) {
      const r = kernel_readdir(p);
      if (r === -ENOTDIR) files.push(p);
      else if (typeof r === 'number') {
        io.err(`ls: cannot access '${p}': ${strerror(r)}\n`);
        status = 1;
      } else dirs.push([p, r]);
    }
    let out = files.map((f) => f + '\n').join('');
    const headers = paths.length > 1;
    dirs.forEach(([p, names], i) => {
      if (headers) out += (out !== '' || i > 0 ? '\n' : '') + `${p}:\n`;
      out += names.map((n) => n + '\n').join('');
    });
    io.out(out);
    return status;
  },
};
