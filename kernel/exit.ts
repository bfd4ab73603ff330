/**
 * Process exit and reaping (Linux kernel/exit.c).
 *
 * do_exit releases the address space (mmput: every page through put_page, so pages with
 * a KeyID pass free_encrypted_page; page tables; the VMAs' KeyID references), hands the
 * children to init, and leaves a zombie holding only its PID, credentials and wait
 * status until the parent reaps it with wait4. Orphaned zombies are reaped by init at
 * once, as Linux's init does in its wait loop.
 *
 * Wait status (include/uapi/linux/wait.h layout): exit(n) gives (n & 0xff) << 8, a
 * fatal signal gives the signal number. wait4 never blocks here: with live children and
 * no zombie it returns 0 (as with WNOHANG), since nothing else would ever run.
 */
import { pr_emerg } from './printk.js';
import {
  EXIT_DEAD, EXIT_ZOMBIE, child_reaper, current, detach_pid, task_dead, type task_struct,
} from './sched.js';
import { mmput } from './fork.js';
import { put_cred } from './cred.js';
import { ECHILD, EINVAL } from './errno.js';
import { close_files } from '../fs/file.js';

export const WNOHANG = 0x00000001;

export function WEXITSTATUS(status: number): number { return (status >> 8) & 0xff; }
export function WIFSIGNALED(status: number): boolean { return ((status & 0x7f) + 1) >> 1 > 0; }
export function WTERMSIG(status: number): number { return status & 0x7f; }

/** exit_mm: the task lets go of its address space. */
function exit_mm(tsk: task_struct): void {
  const mm = tsk.mm;
  if (!mm) return;
  tsk.mm = null;
  mmput(mm);
}

/** exit_files: every descriptor closed (the last reference to a file releases it). */
function exit_files(tsk: task_struct): void {
  const files = tsk.files;
  tsk.files = null;
  close_files(files);
}

/** forget_original_parent: children go to init; init reaps the zombies among them. */
function forget_original_parent(tsk: task_struct): void {
  const reaper = child_reaper();
  const children = tsk.children;
  tsk.children = [];
  for (const child of children) {
    if (!reaper || reaper === tsk) {
      child.parent = null;
      continue;
    }
    child.parent = reaper;
    reaper.children.push(child);
    if (child.exit_state === EXIT_ZOMBIE) release_task(child);
  }
}

/**
 * do_exit: end `tsk` with wait status `code`. Killing init is fatal in Linux ("Attempted
 * to kill init!"); here the message is logged and init becomes a zombie like any task.
 */
export function do_exit(tsk: task_struct, code: number): void {
  if (tsk.exit_state) return;
  if (tsk.pid === 1) {
    pr_emerg(`Kernel panic - not syncing: Attempted to kill init! exitcode=0x${code.toString(16).padStart(8, '0')}`);
  }
  exit_mm(tsk);
  exit_files(tsk);
  forget_original_parent(tsk);
  tsk.exit_code = code;
  tsk.exit_state = EXIT_ZOMBIE;
  task_dead(tsk);
}

/** release_task: the zombie is gone for good (PID freed, credentials dropped). */
export function release_task(tsk: task_struct): void {
  if (tsk.exit_state === EXIT_DEAD) return;
  tsk.exit_state = EXIT_DEAD;
  detach_pid(tsk);
  if (tsk.parent) {
    const i = tsk.parent.children.indexOf(tsk);
    if (i >= 0) tsk.parent.children.splice(i, 1);
  }
  put_cred(tsk.cred);
}

/**
 * kernel_wait4 for `parent`: reap a zombie child (`pid` > 0 that child, -1 any).
 * Returns the child's PID and stores its status, 0 if children exist but none has
 * exited, -ECHILD if there is no such child, -EINVAL for bad options.
 */
export function kernel_wait4(parent: task_struct, pid: number, wstatus: { value: number } | null,
  options = 0): number {
  if (options & ~WNOHANG) return -EINVAL;
  const candidates = parent.children.filter((c) => pid === -1 || c.pid === pid);
  if (candidates.length === 0) return -ECHILD;
  const zombie = candidates.find((c) => c.exit_state === EXIT_ZOMBIE);
  if (!zombie) return 0;
  if (wstatus) wstatus.value = zombie.exit_code;
  const reaped = zombie.pid;
  release_task(zombie);
  return reaped;
}

/** exit(2): end the current task with status `error_code & 0xff`. */
export function sys_exit(error_code: number): void {
  do_exit(current(), (error_code & 0xff) << 8);
}

