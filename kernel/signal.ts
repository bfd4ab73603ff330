/**
 * Fatal signals (Linux kernel/signal.c, only what faults need). Tasks here install no
 * handlers, so every signal the kernel forces takes its default action at once: the
 * task dies (do_exit with the signal as its wait status). SIGSEGV's default action
 * would also dump core; this kernel writes no core files.
 */
import { current, type task_struct } from './sched.js';
import { do_exit } from './exit.js';
import { pr_info } from './printk.js';

export const SIGBUS = 7;
export const SIGKILL = 9;
export const SIGSEGV = 11;
export const SIGCHLD = 17;

/* si_code values (include/uapi/asm-generic/siginfo.h). */
export const SI_KERNEL = 0x80;
export const SEGV_MAPERR = 1; // address not mapped to object
export const SEGV_ACCERR = 2; // invalid permissions for mapped object
export const BUS_ADRERR = 2;

/** What the shell prints for a process killed by `sig` (strsignal). */
export function strsignal(sig: number): string {
  switch (sig) {
    case SIGBUS: return 'Bus error';
    case SIGKILL: return 'Killed';
    case SIGSEGV: return 'Segmentation fault';
    case SIGCHLD: return 'Child exited';
    default: return `Unknown signal ${sig}`;
  }
}

/**
 * show_signal_msg: the "segfault at" line x86 logs for an unhandled fatal fault
 * (show_unhandled_signals). This kernel has no user instruction or stack pointers.
 */
function show_signal_msg(tsk: task_struct, sig: number, address: number, error_code: number): void {
  const what = sig === SIGSEGV ? 'segfault' : 'trap';
  pr_info(`${tsk.comm}[${tsk.pid}]: ${what} at ${address.toString(16)} error ${error_code.toString(16)}`);
}

/**
 * force_sig_fault: deliver a synchronous fault signal to `tsk` (current by default).
 * With no handler the default action runs now: the task is killed.
 */
export function force_sig_fault(sig: number, _si_code: number, address: number, error_code = 0,
  tsk: task_struct = current()): void {
  if (tsk.exit_state) return;
  show_signal_msg(tsk, sig, address, error_code);
  do_exit(tsk, sig & 0x7f);
}

/** force_sig: a signal without fault information (SIGKILL after OOM, #GP). */
export function force_sig(sig: number, tsk: task_struct = current()): void {
  if (tsk.exit_state) return;
  do_exit(tsk, sig & 0x7f);
}
