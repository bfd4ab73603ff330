/**
 * ptrace_may_access (Linux kernel/ptrace.c __ptrace_may_access with the commoncap
 * LSM's cap_ptrace_access_check): may the current task inspect task `t`? procfs asks
 * this before showing another process's memory layout (/proc/PID/maps, smaps:
 * proc_mem_open -> mm_access, which turns a refusal into -EACCES).
 *
 *   same task                                              yes
 *   caller's uid and gid equal the target's (no setuid here) yes, if the target's
 *                                  permitted capabilities are a subset of the caller's
 *   otherwise                                              only with CAP_SYS_PTRACE
 *
 * All tasks are dumpable (no setuid programs run here) and there are no namespaces.
 */
import { CAP_SYS_PTRACE, security_capable } from './capability.js';
import { current, type task_struct } from './sched.js';

export const PTRACE_MODE_READ = 0x01;
export const PTRACE_MODE_ATTACH = 0x02;
export const PTRACE_MODE_FSCREDS = 0x08;
export const PTRACE_MODE_REALCREDS = 0x10;
export const PTRACE_MODE_READ_FSCREDS = PTRACE_MODE_READ | PTRACE_MODE_FSCREDS;

/** Is `t` inspectable by the current task under `mode`? */
export function ptrace_may_access(t: task_struct, _mode: number = PTRACE_MODE_READ_FSCREDS): boolean {
  const caller = current();
  if (caller === t) return true;
  const c = caller.cred;
  const tc = t.cred;
  const has_ptrace = security_capable(c, CAP_SYS_PTRACE);
  if ((c.uid !== tc.uid || c.gid !== tc.gid) && !has_ptrace) return false;
  // cap_ptrace_access_check: the target may not hold what the caller lacks
  if ((tc.cap_permitted & ~c.cap_permitted) !== 0n && !has_ptrace) return false;
  return true;
}
