/**
 * reboot: restart the machine and boot the kernel again. Warm by default (a reset: the
 * caches are dropped, DRAM keeps its bytes, the BIOS makes a new platform key);
 * --cold power-cycles instead. The kernel writes its caches back first. It asks
 * reboot(2) first, as the shell's process: without CAP_SYS_BOOT that is
 * "reboot: Operation not permitted", status 1, and nothing happens.
 */
import { LINUX_REBOOT_CMD_RESTART, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, sys_reboot } from '../../kernel/reboot.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { as_task, check } from '../lib/process.js';

export const rebootCommand: Command<KernelShellContext> = {
  name: 'reboot',
  usage: 'reboot [--cold]',
  summary: 'restart the machine and boot again',
  run(ctx, args) {
    if (args.length > 1 || (args.length === 1 && args[0] !== '--cold')) throw new UsageError();
    check(as_task(ctx, () => sys_reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_RESTART)));
    ctx.reboot(args.length === 1);
    return 0;
  },
};
