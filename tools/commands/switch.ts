/**
 * switch: run the following commands as another live process (a context switch on
 * that process's CPU: its page tables are loaded into CR3).
 */
import { find_task_by_vpid, run_as } from '../../kernel/sched.js';
import { strerror, ESRCH } from '../../kernel/errno.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { nargs } from '../lib/process.js';
import { parseNumber } from '../lib/parse.js';

export const switchCommand: Command<KernelShellContext> = {
  name: 'switch',
  usage: 'switch PID',
  summary: 'run as another process',
  run(ctx, args) {
    nargs(args, 1, 1);
    const r = parseNumber(args[0]);
    if (!r.ok) throw new UsageError(`PID: ${r.error}`);
    const tsk = find_task_by_vpid(r.value);
    if (!tsk || tsk.exit_state) throw new CommandError(`${args[0]}: ${strerror(ESRCH)}`);
    run_as(tsk, () => 0);
    ctx.pid = tsk.pid;
    return 0;
  },
};
