/**
 * Restart and power-off (Linux kernel/reboot.c, arch/x86/kernel/reboot.c): the reboot
 * notifier chain, then the cache write-back every package needs before its caches are
 * lost (Linux's stop_this_cpu() does WBINVD for memory encryption), then the last
 * message. The machine's reset itself is the caller's (the "firmware").
 *
 *   reboot: Restarting system
 *   reboot: Power down
 */
import { smp_call_function_single, wbinvd } from '../include/asm/processor.js';
import { pr_emerg, pr_err } from '../../../kernel/printk.js';
import { package_lead_cpus } from './smpboot.js';

type reboot_notifier = (action: 'restart' | 'power_off') => void;

let notifiers: reboot_notifier[] = [];
let system_state: 'booting' | 'running' | 'restart' | 'power_off' = 'booting';

/** Boot: no notifiers, state "booting". */
export function reboot_init(): void {
  notifiers = [];
  system_state = 'booting';
}

export function set_system_running(): void { system_state = 'running'; }
export function get_system_state(): string { return system_state; }

/** register_reboot_notifier(): run `fn` before restart or power-off. */
export function register_reboot_notifier(fn: reboot_notifier): void { notifiers.push(fn); }

/** WBINVD on one CPU of every package: dirty lines reach DRAM (as ciphertext). */
export function wbinvd_on_all_packages(): number {
  const leads = package_lead_cpus();
  for (const { cpu } of leads) smp_call_function_single(cpu, () => wbinvd());
  return leads.length;
}

function shutdown_prepare(action: 'restart' | 'power_off'): void {
  system_state = action;
  for (const fn of notifiers) {
    try {
      fn(action);
    } catch (e) {
      pr_err(`reboot: notifier failed: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  wbinvd_on_all_packages();
}

/** kernel_restart() up to machine_restart(). */
export function kernel_restart(): void {
  shutdown_prepare('restart');
  pr_emerg('reboot: Restarting system');
}

/** kernel_power_off() up to machine_power_off(). */
export function kernel_power_off(): void {
  shutdown_prepare('power_off');
  pr_emerg('reboot: Power down');
}
