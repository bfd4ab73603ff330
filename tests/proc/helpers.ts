/**
 * Rig for the process tests: boot a kernel (start_kernel), bring up the key service with
 * MKTME keys programmed through real PCONFIG on one lead CPU per package, hook the page
 * allocator's per-page KeyID references into it, then the process layer (pid 1).
 * Also small wrappers to run system calls and user accesses as a task.
 */
import { makeConfig } from '../../arch/x86/hw/config.js';
import { Machine } from '../../arch/x86/hw/machine.js';
import { Fault } from '../../arch/x86/hw/isa.js';
import { memcpy_toio, memset_io, pconfig, smp_call_function_single } from '../../arch/x86/include/asm/processor.js';
import { page_address } from '../../arch/x86/include/asm/page.js';
import { mktme_algs, mktme_nr_keyids, mktme_set_keyid_ref_ops } from '../../arch/x86/mm/mktme.js';
import { package_lead_cpus } from '../../arch/x86/kernel/smpboot.js';
import { start_kernel } from '../../init/main.js';
import {
  KEY_SPEC_SESSION_KEYRING, KEYCTL_REVOKE, MKTME_INVALID_PROG_CMD, add_key, key_init, keyctl, mktme_init,
  mktme_keyid_get, mktme_keyid_info, mktme_keyid_put, type key_cred,
} from '../../kernel/keys/index.js';
import { log_records } from '../../kernel/printk.js';
import { find_task_by_vpid, run_as, sched_init, type task_struct } from '../../kernel/sched.js';
import { proc_pid_init } from '../../fs/proc/base.js';
import { GFP_KERNEL, __free_pages, alloc_pages } from '../../mm/page_alloc.js';
import { user_fetch, user_read, user_write, type user_result } from '../../mm/uaccess.js';
import { kernel_clone } from '../../kernel/fork.js';

export interface Rig {
  machine: Machine;
  init: task_struct;
  console: string[];
}

/** The mktme_hw_ops the boot code would supply: PCONFIG on each package's lead CPU. */
const hw_ops = {
  nr_keyids: () => mktme_nr_keyids(),
  algs: () => mktme_algs(),
  lead_cpus: () => package_lead_cpus().map((p) => p.cpu),
  printk: () => undefined,
  key_program(cpu: number, keyid: number, ctrl: number, f1: Uint8Array, f2: Uint8Array): number {
    const pfn = alloc_pages(GFP_KERNEL, 0);
    const s = new Uint8Array(192);
    s[0] = keyid & 0xff; s[1] = keyid >> 8;
    s[2] = ctrl & 0xff; s[3] = (ctrl >>> 8) & 0xff; s[4] = (ctrl >>> 16) & 0xff; s[5] = ctrl >>> 24;
    s.set(f1.subarray(0, 64), 64);
    s.set(f2.subarray(0, 64), 128);
    memcpy_toio(page_address(pfn), s);
    try {
      const r = smp_call_function_single(cpu, () => pconfig(0, page_address(pfn)));
      return r.zf ? r.rax : 0;
    } catch (e) {
      if (e instanceof Fault) return MKTME_INVALID_PROG_CMD;
      throw e;
    } finally {
      memset_io(page_address(pfn), 0, 192);
      __free_pages(pfn, 0);
    }
  },
};

/** Boot a 2-package, 4-CPU machine with MKTME and the process layer. */
export function boot(seed = 1): Rig {
  const machine = new Machine(makeConfig({ seed, memPerNode: 64 * 1024 * 1024, nvramSize: 0 }));
  const console: string[] = [];
  start_kernel(machine.bootParams(''), (l) => console.push(l));
  let t = 1000;
  key_init({ now: () => t++, serial_seed: seed });
  mktme_init(hw_ops);
  mktme_set_keyid_ref_ops({ get: (k, n) => void mktme_keyid_get(k, n), put: (k, n) => void mktme_keyid_put(k, n) });
  const init = sched_init();
  proc_pid_init();
  return { machine, init, console };
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
