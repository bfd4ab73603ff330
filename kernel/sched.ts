/**
 * Tasks, the PID table, `current` and the context switch (Linux include/linux/sched.h,
 * kernel/pid.c, kernel/sched/core.c reduced to what a run-to-completion kernel needs).
 *
 * Every task is single-threaded and lives on one CPU (task.cpu). Each CPU has a
 * runqueue holding the task it currently runs (rq->curr, null when idle). Kernel code
 * runs on behalf of a task by running on the task's CPU with that task as rq->curr:
 * run_as(tsk, fn) makes tsk current on its CPU (a context switch, switch_mm loading its
 * pgd into CR3) and calls fn there, the way a system call runs on the CPU of the task
 * that made it. current() is the running task of the CPU we are on.
 *
 * PIDs are handed out in order from 1, wrapping at pid_max to RESERVED_PIDS (300), as
 * alloc_pid does. pid 1 is init, the child reaper. New tasks are spread across CPUs
 * round-robin (select_task_rq, deterministic); sched_setaffinity moves one.
 */
import {
  cpu_waiting, nr_cpu_ids, smp_call_function_single, smp_call_function_single_async, smp_processor_id,
} from '../arch/x86/include/asm/processor.js';
import { switch_mm, tlb_init } from '../arch/x86/mm/tlb.js';
import { cpu_online } from '../arch/x86/kernel/smpboot.js';
import type { mm_struct } from '../mm/vma.js';
import type { cred } from './cred.js';
import type { files_struct } from '../fs/file.js';
import { EAGAIN, EINVAL, ESRCH } from './errno.js';

/** task->__state and task->exit_state values (include/linux/sched.h). */
export const TASK_RUNNING = 0x0000;
export const EXIT_DEAD = 0x0010;
export const EXIT_ZOMBIE = 0x0020;

/** PID_MAX_DEFAULT and RESERVED_PIDS (include/linux/threads.h, kernel/pid.c). */
export const PID_MAX_DEFAULT = 0x8000;
export const RESERVED_PIDS = 300;
/** TASK_COMM_LEN (the name is at most 15 characters). */
export const TASK_COMM_LEN = 16;

export interface task_struct {
  pid: number;
  /** Executable name (comm), at most 15 characters. */
  comm: string;
  __state: number;
  /** 0 while alive, EXIT_ZOMBIE until reaped, then EXIT_DEAD. */
  exit_state: number;
  /** The wait status the parent reaps: (code << 8) for exit(), the signal for a kill. */
  exit_code: number;
  parent: task_struct | null;
  children: task_struct[];
  /** The address space; null once the task has exited. */
  mm: mm_struct | null;
  cred: cred;
  /** Open file descriptors (fs/file.ts); null once the task has exited. */
  files: files_struct | null;
  /** CPU the task runs on. */
  cpu: number;
  /** The CPUs it may run on, ascending (cpus_mask; sched_setaffinity sets it). */
  cpus_mask: number[];
  /** Times it was switched in after giving the CPU up (nvcsw: it blocks, nothing preempts). */
  nvcsw: number;
  /** Virtual TSC at creation (for ps). */
  start_time: number;
}

let pid_hash = new Map<number, task_struct>();
let last_pid = 0;
let pid_max = PID_MAX_DEFAULT;
let rq_curr: (task_struct | null)[] = [];
let next_cpu = 0;

/**
 * Boot: an empty PID table, every CPU idle on init_mm. Resets everything, so one
 * process may boot several kernels. pid 1 comes next (init/main.ts rest_init).
 */
export function sched_init(): void {
  pid_hash = new Map();
  last_pid = 0;
  pid_max = PID_MAX_DEFAULT;
  rq_curr = new Array<task_struct | null>(nr_cpu_ids()).fill(null);
  next_cpu = 0;
  tlb_init();
}

/** alloc_pid: the next free PID after the last one handed out, or -EAGAIN. */
export function alloc_pid(): number {
  for (let tries = 0; tries < pid_max; tries++) {
    let pid = last_pid + 1;
    if (pid >= pid_max) pid = RESERVED_PIDS;
    last_pid = pid;
    if (!pid_hash.has(pid)) return pid;
  }
  return -EAGAIN;
}

/** Make `tsk` findable by its PID (attach_pid). */
export function attach_pid(tsk: task_struct): void { pid_hash.set(tsk.pid, tsk); }

/** Forget the task's PID (detach_pid, at release_task). */
export function detach_pid(tsk: task_struct): void { pid_hash.delete(tsk.pid); }

/** find_task_by_vpid: live or zombie task with this PID, or null. */
export function find_task_by_vpid(pid: number): task_struct | null {
  return pid_hash.get(pid) ?? null;
}

/** Every task, by PID (for_each_process). */
export function for_each_process(): task_struct[] {
  return [...pid_hash.values()].sort((a, b) => a.pid - b.pid);
}

/** init, the reaper of orphans (child_reaper). */
export function child_reaper(): task_struct | null {
  return pid_hash.get(1) ?? null;
}

/** set_task_comm: the name ps and /proc show (TASK_COMM_LEN - 1 characters at most). */
export function set_task_comm(tsk: task_struct, name: string): void {
  tsk.comm = name.slice(0, TASK_COMM_LEN - 1);
}

/** select_task_rq for a new task: the next online CPU round-robin, among `allowed` if
 *  given (is_cpu_allowed: a CPU whose bring-up failed gets no tasks). */
export function select_task_rq(allowed?: readonly number[]): number {
  const n = Math.max(1, nr_cpu_ids());
  for (let i = 0; i < n; i++) {
    const cpu = next_cpu % n;
    next_cpu = cpu + 1;
    if ((!allowed || allowed.includes(cpu)) && (cpu === 0 || cpu_online(cpu))) return cpu;
  }
  return allowed?.[0] ?? 0;
}

/** cpu_possible_mask as a list: every CPU a task may be allowed on. */
export function cpu_possible_list(): number[] {
  return Array.from({ length: Math.max(1, nr_cpu_ids()) }, (_, i) => i);
}

/** The task `cpu` is running (rq->curr), null if idle. */
export function cpu_curr(cpu: number): task_struct | null {
  return rq_curr[cpu] ?? null;
}

/** current: the task running on this CPU. Kernel code asks only in task context. */
export function current(): task_struct {
  const tsk = rq_curr[smp_processor_id()];
  if (!tsk) throw new Error('current: no task running on this CPU');
  return tsk;
}

/**
 * context_switch on the current CPU to `next` (which must be on this CPU): switch_mm
 * to its address space, then it becomes rq->curr.
 */
function context_switch(next: task_struct): void {
  switch_mm(next.mm);
  rq_curr[smp_processor_id()] = next;
  next.nvcsw++;
}

/**
 * Run `fn` on behalf of `tsk`: on its CPU, as that CPU's current task. A zombie has no
 * context to run in: the caller must check exit_state first.
 */
export function run_as<T>(tsk: task_struct, fn: () => T): T {
  if (tsk.exit_state) throw new Error(`run_as: task ${tsk.pid} has exited`);
  if (cpu_waiting(tsk.cpu)) return run_borrowed(tsk, fn);
  return smp_call_function_single(tsk.cpu, () => {
    if (rq_curr[tsk.cpu] !== tsk) context_switch(tsk);
    return fn();
  });
}

/**
 * The task's CPU is waiting for this one (a cross-call in flight, asm/processor.ts) and
 * cannot run it until this CPU's work returns. The work runs here instead, on the
 * task's behalf and in its address space (as a kernel thread borrows an mm,
 * kthread_use_mm), and this CPU's own task is current again afterwards. The task stays
 * on its CPU.
 */
function run_borrowed<T>(tsk: task_struct, fn: () => T): T {
  const cpu = smp_processor_id();
  const prev = rq_curr[cpu] ?? null;
  switch_mm(tsk.mm);
  rq_curr[cpu] = tsk;
  try {
    return fn();
  } finally {
    rq_curr[cpu] = prev;
    if (prev) switch_mm(prev.mm);
  }
}

/**
 * The task stops running on its CPU, which goes idle in lazy TLB mode: CR3 still holds
 * the task's mm and the CPU stays in its cpumask (Linux enter_lazy_tlb).
 */
export function deactivate_task(tsk: task_struct): void {
  if (rq_curr[tsk.cpu] === tsk) rq_curr[tsk.cpu] = null;
}

/**
 * sched_setaffinity reduced to one CPU: move task `pid` to `cpu`. Its old CPU goes
 * idle lazily, so the old CPU may still cache the mm's translations until a flush
 * reaches it. 0, -ESRCH or -EINVAL.
 */
export function sched_setaffinity(pid: number, cpu: number): number {
  const tsk = find_task_by_vpid(pid);
  if (!tsk || tsk.exit_state) return -ESRCH;
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= nr_cpu_ids()) return -EINVAL;
  tsk.cpus_mask = [cpu];
  if (cpu === tsk.cpu) return 0;
  deactivate_task(tsk);
  tsk.cpu = cpu;
  return 0;
}

/** The task ran its last: its CPU goes idle on init_mm (called by do_exit on that CPU). */
export function task_dead(tsk: task_struct): void {
  smp_call_function_single_async(tsk.cpu, () => {
    if (rq_curr[tsk.cpu] === tsk) rq_curr[tsk.cpu] = null;
  });
}
