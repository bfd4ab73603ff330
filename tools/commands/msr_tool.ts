/**
 * How rdmsr/wrmsr/cpuid run: as the shell's current process, on its CPU, under the
 * name the program would have after exec (comm "wrmsr"...), so the kernel sees the
 * caller Linux would see (current->comm and pid in its log lines, current's
 * credentials for privilege checks). The name is restored afterwards.
 */
import { find_task_by_vpid, run_as, set_task_comm } from '../../kernel/sched.js';
import type { KernelShellContext } from '../context.js';
import type { ShellIo } from '../registry.js';
import { EIO, ENXIO, strerror } from '../../kernel/errno.js';

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

/**
 * What rdmsr.c and wrmsr.c both do when open("/dev/cpu/N/msr") fails: ENXIO is
 * "No CPU N" (2), EIO "CPU N doesn't support MSRs" (3), anything else perror (127).
 * Prints the words and returns the exit status.
 */
export function msrOpenFailed(tool: string, cpu: number, errno: number, io: ShellIo): number {
  if (errno === ENXIO) { io.err(`${tool}: No CPU ${cpu}\n`); return 2; }
  if (errno === EIO) { io.err(`${tool}: CPU ${cpu} doesn't support MSRs\n`); return 3; }
  io.err(`${tool}: open: ${strerror(errno)}\n`);
  return 127;
}
