/**
 * Rig for the process tests: boot a kernel (start_kernel: the key service with MKTME
 * keys programmed through PCONFIG, page KeyID references hooked in), with the process
 * layer (pid 1, /proc/PID) as a late initcall.
 * Also small wrappers to run system calls and user accesses as a task.
 */
import { makeConfig } from '../../arch/x86/hw/config.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import { late_initcall, start_kernel } from '../../init/main.js';
import {
  KEY_SPEC_SESSION_KEYRING, KEYCTL_REVOKE, add_key, keyctl, mktme_keyid_info, type key_cred,
} from '../../kernel/keys/index.js';
import { log_records } from '../../kernel/printk.js';
import { find_task_by_vpid, run_as, sched_init, type task_struct } from '../../kernel/sched.js';
import { proc_pid_init } from '../../fs/proc/base.js';
import { user_fetch, user_read, user_write, type user_result } from '../../mm/uaccess.js';
import { kernel_clone } from '../../kernel/fork.js';

export interface Rig {
  machine: Machine;
  init: task_struct;
  console: string[];
}

/**
 * The late initcall the boot code will run for the process layer (after the key
 * service's init_mktme_keys): processes with pid 1, and /proc/PID. A full reset, so
 * running it twice is harmless.
 */
export function process_layer_init(): void {
  sched_init();
  proc_pid_init();
}

/** Boot a 2-package, 4-CPU machine with MKTME and the process layer. */
export function boot(seed = 1): Rig {
  const machine = new Machine(makeConfig({ seed, memPerNode: 64 * 1024 * 1024, nvramSize: 0 }));
  const console: string[] = [];
  late_initcall(process_layer_init, 'process_layer_init');
  start_kernel(machine.bootParams(''), (l) => console.push(l));
  return { machine, init: find_task_by_vpid(1)!, console };
}

/** Add an mktme key as `cred` (root) to its session keyring: its serial (or -errno). */
export function add_mktme_key(cred: key_cred, desc: string, options = 'type=cpu algorithm=aes-xts-128'): number {
  return add_key(cred, 'mktme', desc, new TextEncoder().encode(options), KEY_SPEC_SESSION_KEYRING);
}

export function revoke_key(cred: key_cred, serial: number): number {
  return keyctl(cred, KEYCTL_REVOKE, serial);
}

/** References held on a KeyID (the key's own, VMAs', pages'), or -1. */
export function keyid_refs(keyid: number): number {
  const i = mktme_keyid_info(keyid);
  return typeof i === 'number' ? -1 : i.refs;
}

export function as<T>(tsk: task_struct, fn: () => T): T { return run_as(tsk, fn); }

export function fork(tsk: task_struct): task_struct {
  const pid = run_as(tsk, () => kernel_clone(tsk));
  if (pid < 0) throw new Error(`fork failed: ${pid}`);
  return find_task_by_vpid(pid)!;
}

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export function uread(tsk: task_struct, va: number, len: number): user_result<Uint8Array> { return user_read(tsk, va, len); }
export function uwrite(tsk: task_struct, va: number, s: string | Uint8Array): user_result<void> {
  return user_write(tsk, va, typeof s === 'string' ? enc(s) : s);
}
export function ufetch(tsk: task_struct, va: number, len: number): user_result<Uint8Array> { return user_fetch(tsk, va, len); }

/** Log lines (text only) matching `re`. */
export function logLines(re: RegExp): string[] {
  return log_records().map((r) => r.text).filter((s) => re.test(s));
}
