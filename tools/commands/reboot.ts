/**
 * reboot: restart the machine and boot the kernel again. Warm by default (a reset: the
 * caches are dropped, DRAM keeps its bytes, the BIOS makes a new platform key);
 * --cold power-cycles instead. The kernel writes its caches back first.
 */
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';

export const rebootCommand: Command<KernelShellContext> = {
  name: 'reboot',
  usage: 'reboot [--cold]',
  summary: 'restart the machine and boot again',
  run(ctx, args) {
    if (args.length > 1 || (args.length === 1 && args[0] !== '--cold')) throw new UsageError();
    ctx.reboot(args.length === 1);
    return 0;
  },
};
