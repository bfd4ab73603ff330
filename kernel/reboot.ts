/**
 * reboot(2) (Linux kernel/reboot.c SYSCALL_DEFINE4(reboot)): the permission and
 * argument checks of restart, halt and power-off.
 *
 *   no CAP_SYS_BOOT                       -EPERM  ("reboot: Operation not permitted")
 *   magic1 != LINUX_REBOOT_MAGIC1, or magic2 not one of the four magic2 values  -EINVAL
 *   an unknown cmd                        -EINVAL
 *
 * On success the caller goes on to the restart or power-off itself: the kernel's part
 * is kernel_restart / kernel_power_off (arch/x86/kernel/reboot.ts), the machine's
 * reset belongs to whoever holds the machine (the shell, as a BIOS would).
 */
import { CAP_SYS_BOOT, capable } from './capability.js';
import { EINVAL, EPERM } from './errno.js';

export const LINUX_REBOOT_MAGIC1 = 0xfee1dead;
export const LINUX_REBOOT_MAGIC2 = 672274793;
export const LINUX_REBOOT_MAGIC2A = 85072278;
export const LINUX_REBOOT_MAGIC2B = 369367448;
export const LINUX_REBOOT_MAGIC2C = 537993216;

export const LINUX_REBOOT_CMD_RESTART = 0x01234567;
export const LINUX_REBOOT_CMD_HALT = 0xcdef0123;
export const LINUX_REBOOT_CMD_POWER_OFF = 0x4321fedc;

/** reboot(magic1, magic2, cmd): 0 when the caller may go on, else -errno. */
export function sys_reboot(magic1: number, magic2: number, cmd: number): number {
  /* We only trust the superuser with rebooting the system. */
  if (!capable(CAP_SYS_BOOT)) return -EPERM;
  if (magic1 !== LINUX_REBOOT_MAGIC1 || (magic2 !== LINUX_REBOOT_MAGIC2 && magic2 !== LINUX_REBOOT_MAGIC2A &&
    magic2 !== LINUX_REBOOT_MAGIC2B && magic2 !== LINUX_REBOOT_MAGIC2C)) return -EINVAL;
  if (cmd !== LINUX_REBOOT_CMD_RESTART && cmd !== LINUX_REBOOT_CMD_HALT && cmd !== LINUX_REBOOT_CMD_POWER_OFF) {
    return -EINVAL;
  }
  return 0;
}
