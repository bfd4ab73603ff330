/**
 * PM notifiers (Linux kernel/power/main.c register_pm_notifier, pm_notifier_call_chain;
 * include/linux/suspend.h): subsystems that must act around a system sleep, with all
 * CPUs online, register here instead of being called by the suspend code. The MKTME key
 * service programs its KeyIDs again at PM_POST_SUSPEND (every package's key table was
 * reset in S3, and PCONFIG must run on a CPU of each package).
 */
import {
  notifier_call_chain, notifier_chain_register, notifier_to_errno,
  type notifier_block, type notifier_head,
} from '../notifier.js';

export const PM_HIBERNATION_PREPARE = 0x0001;
export const PM_POST_HIBERNATION = 0x0002;
export const PM_SUSPEND_PREPARE = 0x0003;
export const PM_POST_SUSPEND = 0x0004;

const pm_chain_head: notifier_head = { chain: [] };

/** register_pm_notifier(): idempotent, so an init function may run at every boot. */
export function register_pm_notifier(nb: notifier_block): number {
  notifier_chain_register(pm_chain_head, nb);
  return 0;
}

/** pm_notifier_call_chain(): 0, or the -errno a callback reported. */
export function pm_notifier_call_chain(event: number): number {
  return notifier_to_errno(notifier_call_chain(pm_chain_head, event));
}
