/**
 * What the process and memory commands share: the task the shell runs as (ctx.pid),
 * running a system call as that task, turning -errno into "NAME: strerror", parsing
 * PROT letters and addresses, and what happens when the shell's process dies.
 *
 * The shell behaves like a login shell that is a process: `fork` and `su` start a
 * process the shell may switch to, and when the process it runs as ends (exit, or a
 * fatal signal such as SIGSEGV) its parent reaps it, as a parent shell waiting for its
 * child would, and the shell carries on as that parent. When init (pid 1) ends there is
 * no parent and the shell stops.
 */
import { find_task_by_vpid, run_as, set_task_comm, type task_struct } from '../../kernel/sched.js';
import { kernel_clone } from '../../kernel/fork.js';
import { key_gc } from '../../kernel/keys/index.js';
import { kernel_wait4, WIFSIGNALED, WTERMSIG, WEXITSTATUS } from '../../kernel/exit.js';
import { strsignal } from '../../kernel/signal.js';
import { ESRCH, strerror } from '../../kernel/errno.js';
import { PROT_EXEC, PROT_NONE, PROT_READ, PROT_WRITE } from '../../mm/mmap.js';
import { CommandError, ShellExit, UsageError, type ShellIo } from '../registry.js';
import { parseNumber, parseSize } from './parse.js';

/** The part of the kernel shell's context the process commands use. */
export interface ProcessShellContext {
  pid: number;
  /** The session's login shell (a child of init), when the shell started one. */
  loginPid?: number;
}

/** The live task the shell runs as, or "NAME: No such process". */
export function shell_task(ctx: ProcessShellContext): task_struct {
  const tsk = find_task_by_vpid(ctx.pid);
  if (!tsk || tsk.exit_state) throw new CommandError(strerror(ESRCH));
  return tsk;
}

/**
 * Run `fn` (a system call) as the shell's task. On the way back to user mode the
 * kernel's deferred key garbage collection runs (Linux: key_garbage_collector, a work
 * item), so keys whose last reference went with this call are reaped.
 */
export function as_task<T>(ctx: ProcessShellContext, fn: () => T): T {
  try {
    return run_as(shell_task(ctx), fn);
  } finally {
    key_gc();
  }
}

/** A system call's result: -errno becomes a CommandError ("NAME: strerror"). */
export function check(ret: number): number {
  if (ret < 0) throw new CommandError(strerror(ret));
  return ret;
}

/**
 * The login shell: a child of init, as on a real system (init -> getty -> sh), so that a
 * crashing shell process does not take init with it. Returns its pid (or -errno).
 */
export function spawn_login_shell(): number {
  const init = find_task_by_vpid(1);
  if (!init || init.exit_state) return -ESRCH;
  const pid = run_as(init, () => kernel_clone(init));
  const sh = pid > 0 ? find_task_by_vpid(pid) : null;
  if (sh) set_task_comm(sh, 'sh');
  return pid;
}

/**
 * The shell's process `tsk` has ended (it is a zombie): report a fatal signal as sh
 * does ("Segmentation fault"), let the parent reap it and continue as the parent.
 * Returns the shell status: the exit status, or 128 + the signal.
 *
 * The login shell (ctx.loginPid) is special: when it exits the session ends (logout);
 * when a signal kills it, init starts a new login shell (as init respawns a getty) and
 * the session carries on there. If init itself ended, the shell stops with its status.
 */
export function shell_process_ended(ctx: ProcessShellContext, io: ShellIo, tsk: task_struct): number {
  const status = tsk.exit_code;
  const signaled = WIFSIGNALED(status);
  const code = signaled ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
  if (signaled) io.err(`${strsignal(WTERMSIG(status))}\n`);
  const parent = tsk.parent;
  if (!parent) throw new ShellExit(code);
  kernel_wait4(parent, tsk.pid, null);
  if (tsk.pid === ctx.loginPid) {
    if (!signaled) throw new ShellExit(code);
    const pid = spawn_login_shell();
    if (pid > 0) { ctx.pid = ctx.loginPid = pid; return code; }
  }
  // An orphan's parent is init: the shell goes back to the login shell instead of
  // running as init (where the next fault would kill init).
  const login = ctx.loginPid !== undefined ? find_task_by_vpid(ctx.loginPid) : null;
  ctx.pid = parent.pid === 1 && login && !login.exit_state ? login.pid : parent.pid;
  return code;
}

/**
 * PROT as the commands take it: letters r, w, x in any order (each at most once, '-'
 * allowed as a placeholder, as in "r-x"), or "none".
 */
export function parse_prot(s: string): number {
  if (s === 'none') return PROT_NONE;
  if (!/^[rwx-]{1,3}$/.test(s)) throw new UsageError(`PROT must be letters from r, w, x or 'none', not '${s}'`);
  let prot = 0;
  for (const ch of s) {
    const bit = ch === 'r' ? PROT_READ : ch === 'w' ? PROT_WRITE : ch === 'x' ? PROT_EXEC : 0;
    if (bit && prot & bit) throw new UsageError(`PROT repeats '${ch}': '${s}'`);
    prot |= bit;
  }
  return prot;
}

/** An address argument: decimal or 0x hex. */
export function parse_addr(s: string, what = 'ADDR'): number {
  const r = parseNumber(s);
  if (!r.ok) throw new UsageError(`${what}: ${r.error}`);
  return r.value;
}

/** A length argument: a number with an optional K/M/G suffix. */
export function parse_len(s: string, what = 'LEN'): number {
  const r = parseSize(s);
  if (!r.ok) throw new UsageError(`${what}: ${r.error}`);
  return r.value;
}

/** Exactly `min`..`max` arguments, or a usage error. */
export function nargs(args: readonly string[], min: number, max: number): void {
  if (args.length < min) throw new UsageError('missing operand');
  if (args.length > max) throw new UsageError('too many arguments');
}
