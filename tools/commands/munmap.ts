/**
 * munmap: unmap [ADDR, ADDR+LEN) from the shell's process (munmap(2)); its pages are
 * freed after a TLB shootdown.
 */
import { sys_munmap } from '../../mm/mmap.js';
import { type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { as_task, check, nargs, parse_addr, parse_len } from '../lib/process.js';

export const munmapCommand: Command<KernelShellContext> = {
  name: 'munmap',
  usage: 'munmap ADDR LEN',
  summary: 'unmap memory',
  run(ctx, args) {
    nargs(args, 2, 2);
    const addr = parse_addr(args[0]);
    const len = parse_len(args[1]);
    check(as_task(ctx, () => sys_munmap(addr, len)));
    return 0;
  },
};
