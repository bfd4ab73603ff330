/**
 * A process's own loads, stores and instruction fetches, run on the CPU in user mode
 * (what a user program's instructions do; the shell's `read`/`write` use them).
 *
 * On the task's CPU, with its pgd in CR3 (run_as), the CPU drops to CPL 3
 * (user_mode_exec, asm/processor.ts: the only place the kernel changes CPL) and does the
 * access one page piece at a time, as a copy loop would. A #PF returns to CPL 0 and
 * goes to exc_page_fault: a fixed fault (demand paging) retries the instruction; a fatal
 * one has killed the task. A #GP (non-canonical address) is SIGSEGV, as in Linux's
 * do_general_protection for user mode. The CPU is always back at CPL 0 afterwards and
 * no hardware exception reaches the caller.
 */
import { Fault, X86_TRAP_GP, X86_TRAP_PF, type X86Cpu } from '../arch/x86/hw/isa.js';
import { user_mode_exec } from '../arch/x86/include/asm/processor.js';
import { FAULT_KILLED, FAULT_OOPS, exc_page_fault } from '../arch/x86/mm/fault.js';
import { run_as, type task_struct } from '../kernel/sched.js';
import { SIGBUS, SIGSEGV, SI_KERNEL, force_sig, force_sig_fault } from '../kernel/signal.js';
import { WTERMSIG } from '../kernel/exit.js';
import { pr_err } from '../kernel/printk.js';
import { PAGE_SIZE } from '../arch/x86/include/asm/pgtable_types.js';

/** The same fault this many times in a row means the handler cannot fix it (a bug). */
const MAX_SAME_FAULT = 3;

/** The access's result, or the fatal signal that killed the task. */
export type user_result<T> = { ok: true; value: T } | { ok: false; signal: number };

/**
 * Run one user-mode instruction `insn` for `tsk` until it completes or the task dies.
 * Must be called on the task's CPU in its context (inside run_as).
 */
function user_insn<T>(tsk: task_struct, insn: (cpu: X86Cpu) => T): user_result<T> {
  let last = '';
  let same = 0;
  for (;;) {
    try {
      return { ok: true, value: user_mode_exec(insn) };
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
      if (e.vector === X86_TRAP_PF) {
        const sig = `${e.address}:${e.errorCode}`;
        same = sig === last ? same + 1 : 1;
        last = sig;
        if (same > MAX_SAME_FAULT) {
          pr_err(`uaccess: fault at ${e.address.toString(16)} (error ${e.errorCode.toString(16)}) keeps recurring`);
          force_sig_fault(SIGSEGV, SI_KERNEL, e.address, e.errorCode, tsk);
        } else {
          const r = exc_page_fault(e.errorCode, e.address);
          if (r === FAULT_OOPS) force_sig(SIGSEGV, tsk);
          else if (r === FAULT_KILLED && !tsk.exit_state) force_sig(SIGSEGV, tsk);
        }
      } else if (e.vector === X86_TRAP_GP) {
        force_sig_fault(SIGSEGV, SI_KERNEL, 0, 0, tsk); // do_general_protection, user mode
      } else {
        force_sig(SIGBUS, tsk); // #MC and anything else: the access cannot complete
      }
      if (tsk.exit_state) return { ok: false, signal: WTERMSIG(tsk.exit_code) };
    }
  }
}

/** Split [va, va+len) into page pieces and run `piece(at, off, n)` on each in user mode. */
function user_pieces(tsk: task_struct, va: number, len: number,
  piece: (cpu: X86Cpu, at: number, off: number, n: number) => void): user_result<void> {
  if (tsk.exit_state || !tsk.mm) return { ok: false, signal: SIGSEGV };
  return run_as(tsk, () => {
    let done = 0;
    do {
      const at = va + done;
      const n = Math.min(len - done, PAGE_SIZE - ((at >>> 0) & (PAGE_SIZE - 1))); // at % PAGE_SIZE, exact: 4096 divides 2^32
      const r = user_insn(tsk, (cpu) => piece(cpu, at, done, n));
      if (!r.ok) return r;
      done += n;
    } while (done < len);
    return { ok: true, value: undefined };
  });
}

/** User-mode loads of `len` bytes at `va`. */
export function user_read(tsk: task_struct, va: number, len: number): user_result<Uint8Array> {
  const out = new Uint8Array(len);
  const r = user_read_into(tsk, va, out);
  return r.ok ? { ok: true, value: out } : r;
}

/**
 * User-mode loads of dst.length bytes at `va` into `dst` (a buffer of the caller's, as
 * a program loads into its own memory: nothing is allocated per call).
 */
export function user_read_into(tsk: task_struct, va: number, dst: Uint8Array): user_result<void> {
  return user_pieces(tsk, va, dst.length, (cpu, at, off, n) => cpu.read(at, dst.subarray(off, off + n)));
}

/** User-mode stores of `bytes` at `va`. */
export function user_write(tsk: task_struct, va: number, bytes: Uint8Array): user_result<void> {
  return user_pieces(tsk, va, bytes.length, (cpu, at, off, n) => cpu.write(at, bytes.subarray(off, off + n)));
}

/** User-mode instruction fetch of `len` bytes at `va` (what jumping there would do). */
export function user_fetch(tsk: task_struct, va: number, len: number): user_result<Uint8Array> {
  const out = new Uint8Array(len);
  const r = user_pieces(tsk, va, len, (cpu, at, off, n) => out.set(cpu.fetch(at, n), off));
  return r.ok ? { ok: true, value: out } : r;
}
