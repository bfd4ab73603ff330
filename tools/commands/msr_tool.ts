/**
 * How rdmsr/wrmsr/cpuid run: as the shell's current process, on its CPU, under the
 * name the program would have after exec (comm "wrmsr"...), so the kernel sees the
 * caller Linux would see (current->comm and pid in its log lines, current's
 * credentials for privilege checks). The name is restored afterwards.
 */
import { find_task_by_vpid, run_as, set_task_comm } from '../../kernel/sched.js';
import type { KernelShellContext } from '../context.js';

export function asTool(ctx: KernelShellContext, comm: string, fn: () => number): number {
  const task = find_task_by_vpid(ctx.pid);
  if (!task || task.exit_state) return fn();
  const saved = task.comm;
  return run_as(task, () => {
    set_task_comm(task, comm);
    try {
      return fn();
    } finally {
      task.comm = saved;
    }
  });
}
