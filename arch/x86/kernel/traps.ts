/**
 * Exceptions taken in kernel mode (Linux arch/x86/kernel/traps.c exc_general_protection,
 * exc_invalid_op/handle_bug; arch/x86/mm/fault.c page_fault_oops/show_fault_oops;
 * arch/x86/kernel/cpu/mce/core.c for the machine check).
 *
 * The machine raises a hardware exception as a thrown Fault. Kernel code here has no
 * exception-table fixups, so a Fault that leaves kernel code (reaching the system-call
 * boundary of the task it ran for) is a kernel bug, handled as Linux handles one:
 *
 *   #PF   BUG: unable to handle page fault for address: ffff88800fc00000
 *         #PF: supervisor write access in kernel mode
 *         #PF: error_code(0x0002) - not-present page
 *         Oops: 0002 [#1] SMP NOPTI ...           the task is killed (SIGKILL)
 *   #GP   general protection fault: 0000 [#1] SMP NOPTI ...          (SIGSEGV)
 *   #UD   invalid opcode: 0000 [#1] SMP NOPTI ...                    (SIGSEGV)
 *   #MC   mce: [Hardware Error]: ... then Kernel panic - not syncing: Fatal machine check
 *
 * A host exception thrown by kernel code (a TypeError: a bug of this tree) is treated
 * as BUG(): "kernel BUG at FILE:LINE!" and an invalid-opcode oops. Cleanup on the way
 * out (finally blocks) runs as the exception unwinds; it must not fault.
 */
import {
  Fault, X86_PF_INSTR, X86_PF_PROT, X86_PF_RSVD, X86_PF_USER, X86_PF_WRITE, X86_TRAP_GP, X86_TRAP_MC,
  X86_TRAP_PF, X86_TRAP_UD,
} from '../hw/isa.js';
import { KERN_ALERT, pr_emerg, pr_err, printk } from '../../../kernel/printk.js';
import { KernelPanic, TAINT_MACHINE_CHECK, add_taint, panic } from '../../../kernel/panic.js';
import { SIGKILL, SIGSEGV } from '../../../kernel/signal.js';
import type { task_struct } from '../../../kernel/sched.js';
import { die, oops_begin } from './dumpstack.js';

const pr_alert = (s: string): void => printk(KERN_ALERT, s);
/** X86_PF_PK: protection-keys violation (this machine has no pkeys). */
const X86_PF_PK = 1 << 5;

/** %px of a 48-bit linear address: the canonical 64-bit form, 16 hex digits. */
export function fmt_px(va: number): string {
  let v = BigInt(Math.max(0, Math.floor(va)));
  if (v >= 1n << 47n && v < 1n << 48n) v |= 0xffff000000000000n;
  return v.toString(16).padStart(16, '0');
}

/** show_fault_oops + page_fault_oops for a kernel-mode #PF. The task gets SIGKILL. */
export function page_fault_oops(error_code: number, address: number, tsk: task_struct | null, cpu: number): void {
  oops_begin();
  if (address < 4096) pr_alert(`BUG: kernel NULL pointer dereference, address: ${fmt_px(address)}`);
  else pr_alert(`BUG: unable to handle page fault for address: ${fmt_px(address)}`);
  const who = error_code & X86_PF_USER ? 'user' : 'supervisor';
  const what = error_code & X86_PF_INSTR ? 'instruction fetch' : error_code & X86_PF_WRITE ? 'write access' : 'read access';
  pr_alert(`#PF: ${who} ${what} in kernel mode`);
  const why = !(error_code & X86_PF_PROT) ? 'not-present page'
    : error_code & X86_PF_RSVD ? 'reserved bit violation'
      : error_code & X86_PF_PK ? 'protection keys violation' : 'permissions violation';
  pr_alert(`#PF: error_code(0x${error_code.toString(16).padStart(4, '0')}) - ${why}`);
  die('Oops', error_code, tsk, cpu, SIGKILL);
}

/** The first stack frame in this tree's kernel sources: "mm/memory.ts:199". */
function bug_location(e: Error): string {
  for (const line of (e.stack ?? '').split('\n').slice(1)) {
    const m = /((?:arch|kernel|mm|fs|drivers|init|virt)\/[^\s():]+\.[jt]s):(\d+)/.exec(line);
    if (m) return `${m[1].replace(/\.js$/, '.ts')}:${m[2]}`;
  }
  return 'unknown location';
}

/**
 * A Fault or host exception escaped kernel code running for `tsk` on `cpu`: print the
 * oops (or panic) and kill the task. A KernelPanic passes through. Returns normally
 * after an oops; the caller then treats `tsk` as dead.
 */
export function handle_kernel_exception(e: unknown, tsk: task_struct | null, cpu: number): void {
  if (e instanceof KernelPanic) throw e;
  if (e instanceof Fault) {
    switch (e.vector) {
      case X86_TRAP_PF:
        page_fault_oops(e.errorCode, e.address, tsk, cpu);
        return;
      case X86_TRAP_GP: {
        const desc = e.address
          ? `general protection fault, probably for non-canonical address 0x${e.address.toString(16)}`
          : 'general protection fault';
        die(desc, e.errorCode, tsk, cpu, SIGSEGV);
        return;
      }
      case X86_TRAP_UD:
        die('invalid opcode', 0, tsk, cpu, SIGSEGV);
        return;
      case X86_TRAP_MC:
        oops_begin();
        add_taint(TAINT_MACHINE_CHECK);
        pr_emerg(`mce: [Hardware Error]: CPU ${cpu}: Machine Check Exception: 5 Bank 0: b200000000000000`);
        pr_emerg(`mce: [Hardware Error]: PHYSADDR 0x${e.address.toString(16)}`);
        return panic('Fatal machine check');
      default:
        die(`trap ${e.vector}`, e.errorCode, tsk, cpu, SIGSEGV);
        return;
    }
  }
  const err = e instanceof Error ? e : new Error(String(e));
  oops_begin();
  pr_err(`${err.name}: ${err.message}`);
  pr_emerg(`kernel BUG at ${bug_location(err)}!`);
  die('invalid opcode', 0, tsk, cpu, SIGSEGV);
}
