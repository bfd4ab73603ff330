/**
 * /sys/power/state and pm_suspend (Linux kernel/power/main.c state_show/state_store,
 * kernel/power/suspend.c pm_suspend/enter_state, suspend_set_ops).
 *
 *   echo mem > /sys/power/state      suspend to RAM (S3) and back
 *
 * Who may suspend is decided by the file: /sys/power/state is root's, mode 0644, so an
 * ordinary user's open for writing fails with EACCES before anything happens. The
 * platform (ACPI's acpi_suspend_enter, here the machine's owner: the shell) registers
 * platform_suspend_ops.enter, which puts the machine in S3 and returns on wake-up.
 * The kernel's own work before and after is arch/x86/kernel/suspend.ts.
 */
import { suspend_prepare, suspend_resume } from '../../arch/x86/kernel/suspend.js';
import { proc_create } from '../../fs/proc/generic.js';
import { EINVAL, ENODEV } from '../errno.js';

// (the PM notifiers, which the key service uses, are kernel/power/main.ts)

export interface platform_suspend_ops {
  /** Enter S3; returns after the wake-up, the BIOS's resume path done. */
  enter(): void;
}

let suspend_ops: platform_suspend_ops | null = null;

/** suspend_set_ops: the platform's S3 entry (per kernel instance). */
export function suspend_set_ops(ops: platform_suspend_ops | null): void {
  suspend_ops = ops;
}

/**
 * pm_suspend(PM_SUSPEND_MEM): prepare (write back caches, refuse if the platform
 * cannot bring memory back), enter, resume. 0 or -errno (-ENODEV without a platform,
 * -EOPNOTSUPP when suspend_prepare refuses, -ENOKEY when KeyIDs could not come back).
 */
export function pm_suspend(): number {
  if (!suspend_ops) return -ENODEV;
  const err = suspend_prepare();
  if (err < 0) return err;
  suspend_ops.enter();
  return suspend_resume();
}

/** state_store: "mem" (with or without the newline echo adds) suspends; else -EINVAL. */
function state_store(buf: string): number {
  const state = buf.endsWith('\n') ? buf.slice(0, -1) : buf;
  if (state !== 'mem') return -EINVAL;
  const ret = pm_suspend();
  return ret < 0 ? ret : buf.length;
}

/** Boot: /sys/power/state, no platform ops until the platform registers them. */
export function pm_init(): number {
  suspend_ops = null;
  proc_create('/sys/power/state', () => (suspend_ops ? 'mem\n' : '\n'), state_store);
  proc_create('/sys/power/mem_sleep', () => '[deep]\n');
  return 0;
}
