/**
 * taskset -p -c CPU PID (util-linux taskset(1), reduced to one CPU, as this kernel's
 * sched_setaffinity is): move a live process to CPU. Linux's checks: the caller owns
 * the process or has CAP_SYS_NICE (EPERM), the CPU is online (EINVAL).
 *
 *   pid 4's current affinity list: 0-3
 *   pid 4's new affinity list: 1
 */
import { current, find_task_by_vpid, run_as, sched_setaffinity } from '../../kernel/sched.js';
import { capable } from '../../kernel/capability.js';
import { CAP_SYS_NICE } from '../../include/linux/capability.js';
import { EINVAL, EPERM, ESRCH, strerror } from '../../kernel/errno.js';
import { cpu_online } from '../../arch/x86/kernel/smpboot.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { shell_task } from '../lib/process.js';
import { parseNumber } from '../lib/parse.js';

const FAILED = (pid: string, err: number): string => `failed to set pid ${pid}'s affinity: ${strerror(err)}`;

/**
 * A CPU list as util-linux writes it (lib/cpuset.c cpulist_create): a run of three or
 * more CPUs as "a-b", a pair as "a,b", a single CPU as itself ("0-3", "0,1", "0,2-5").
 */
export function cpulist_create(cpus: readonly number[]): string {
  const set = [...new Set(cpus)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < set.length;) {
    let j = i;
    while (j + 1 < set.length && set[j + 1] === set[j] + 1) j++;
    if (j - i >= 2) parts.push(`${set[i]}-${set[j]}`);
    else for (let k = i; k <= j; k++) parts.push(String(set[k]));
    i = j + 1;
  }
  return parts.join(',');
}

export const tasksetCommand: Command<KernelShellContext> = {
  name: 'taskset',
  usage: 'taskset -pc CPU PID',
  summary: "set a process's CPU affinity (one CPU)",
  run(ctx, args, io) {
    const rest = args[0] === '-pc' || args[0] === '-cp' ? args.slice(1)
      : args[0] === '-p' && args[1] === '-c' ? args.slice(2) : null;
    if (!rest || rest.length !== 2) throw new UsageError();
    const cpu = parseNumber(rest[0]);
    const pid = parseNumber(rest[1]);
    if (!cpu.ok) throw new UsageError(`CPU: ${cpu.error}`);
    if (!pid.ok) throw new UsageError(`PID: ${pid.error}`);
    return run_as(shell_task(ctx), () => {
      const tsk = find_task_by_vpid(pid.value);
      if (!tsk || tsk.exit_state) throw new CommandError(FAILED(rest[1], ESRCH));
      const me = current().cred;
      if (me.uid !== tsk.cred.uid && !capable(CAP_SYS_NICE)) throw new CommandError(FAILED(rest[1], EPERM));
      if (!cpu_online(cpu.value)) throw new CommandError(FAILED(rest[1], EINVAL));
      const before = cpulist_create(tsk.cpus_mask);
      const r = sched_setaffinity(tsk.pid, cpu.value);
      if (r < 0) throw new CommandError(FAILED(rest[1], r));
      io.out(`pid ${tsk.pid}'s current affinity list: ${before}\npid ${tsk.pid}'s new affinity list: ${cpu.value}\n`);
      return 0;
    });
  },
};
