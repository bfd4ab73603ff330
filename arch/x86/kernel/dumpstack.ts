/**
 * Oopses (Linux arch/x86/kernel/dumpstack.c: oops_begin, __die_header, __die_body,
 * oops_end, die, die_addr; kernel/exit.c make_task_dead).
 *
 *   Oops: 0002 [#1] SMP NOPTI
 *   CPU: 1 PID: 2 Comm: sh Not tainted 6.8.0-mktme #1
 *   ---[ end trace 0000000000000000 ]---
 *
 * oops_begin raises the console log level (console_verbose), so an oops reaches the
 * console even under `quiet`, and stays that way, as in Linux. oops_end taints the
 * kernel (TAINT_DIE) and ends the task the fault happened for with the signal
 * (make_task_dead): its parent reaps it like any dead child. Killing init, or an oops
 * with no task to blame, is a panic. This kernel keeps no register dump or call trace
 * (its code is TypeScript): the header names the access, the task and the CPU.
 */
import { set_console_loglevel } from '../../../kernel/printk.js';
import { pr_emerg } from '../../../kernel/printk.js';
import { TAINT_DIE, add_taint, panic, print_tainted } from '../../../kernel/panic.js';
import { do_exit } from '../../../kernel/exit.js';
import type { task_struct } from '../../../kernel/sched.js';

/** CONSOLE_LOGLEVEL_MOTORMOUTH. */
const CONSOLE_LOGLEVEL_MOTORMOUTH = 15;

let die_counter = 0;
let uts_release = '';
let panic_on_oops = false;

/** Boot: no oops yet; `release` is the kernel's UTS release for the CPU line. */
export function dumpstack_init(release: string, oops_panics = false): void {
  die_counter = 0;
  uts_release = release;
  panic_on_oops = oops_panics;
}

/** console_verbose(): every message reaches the console from now on. */
function console_verbose(): void {
  set_console_loglevel(CONSOLE_LOGLEVEL_MOTORMOUTH);
}

export function oops_begin(): void {
  console_verbose();
}

/** "%s: %04lx [#%d] SMP NOPTI" (no PREEMPT, SMP, no PTI on this machine). */
function __die_header(str: string, err: number): void {
  pr_emerg(`${str}: ${(err & 0xffff).toString(16).padStart(4, '0')} [#${++die_counter}] SMP NOPTI`);
}

/** show_regs' first line (dump_stack_print_info). */
function show_task(tsk: task_struct | null, cpu: number): void {
  const who = tsk ? `PID: ${tsk.pid} Comm: ${tsk.comm}` : 'PID: 0 Comm: swapper';
  pr_emerg(`CPU: ${cpu} ${who} ${print_tainted()} ${uts_release} #1`);
}

/**
 * oops_end: the trace ends, the kernel is tainted, the task dies with `signr`.
 * Panics instead with panic_on_oops, for init, or with no task.
 */
export function oops_end(tsk: task_struct | null, signr: number): void {
  pr_emerg('---[ end trace 0000000000000000 ]---');
  add_taint(TAINT_DIE);
  if (panic_on_oops) panic('Fatal exception');
  if (!tsk) panic('Fatal exception in interrupt');
  if (tsk.pid === 1) panic(`Attempted to kill init! exitcode=0x${signr.toString(16).padStart(8, '0')}`);
  make_task_dead(tsk, signr);
}

/** make_task_dead: the task exits with the signal as its status (do_exit). */
export function make_task_dead(tsk: task_struct, signr: number): void {
  if (!tsk.exit_state) do_exit(tsk, signr & 0x7f);
}

/**
 * die(str, err) for `tsk` on `cpu`: header, task line, end, and the task dies with
 * `signr` (SIGSEGV for die(), SIGKILL after a kernel page fault, as page_fault_oops).
 */
export function die(str: string, err: number, tsk: task_struct | null, cpu: number, signr: number): void {
  oops_begin();
  __die_header(str, err);
  show_task(tsk, cpu);
  oops_end(tsk, signr);
}
