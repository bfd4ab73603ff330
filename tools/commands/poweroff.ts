/**
 * poweroff: shut the kernel down (caches written back) and stop the shell, status 0.
 * reboot(2) decides first: without CAP_SYS_BOOT, "poweroff: Operation not permitted".
 */
import { LINUX_REBOOT_CMD_POWER_OFF, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, sys_reboot } from '../../kernel/reboot.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { as_task, check } from '../lib/process.js';

export const poweroffCommand: Command<KernelShellContext> = {
  name: 'poweroff',
  usage: 'poweroff',
  summary: 'power the machine off and leave the shell',
  run(ctx, args) {
    if (args.length > 0) throw new UsageError('too many arguments');
    check(as_task(ctx, () => sys_reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF)));
    return ctx.poweroff();
  },
};
