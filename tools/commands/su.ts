/**
 * su: run the following commands as user UID in a new process: the shell's process
 * forks, and the child sets its uid and gid to UID and joins a fresh session keyring
 * (as su with pam_keyinit does). Only root may do this; others get su's
 * "Authentication failure". `exit` returns to the parent.
 */
import { sys_fork } from '../../kernel/fork.js';
import { do_su } from '../../kernel/sys.js';
import { do_exit, kernel_wait4 } from '../../kernel/exit.js';
import { find_task_by_vpid, run_as } from '../../kernel/sched.js';
import { strerror } from '../../kernel/errno.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';
import { check, nargs, shell_task } from '../lib/process.js';
import { parseIntIn } from '../lib/parse.js';

export const suCommand: Command<KernelShellContext> = {
  name: 'su',
  usage: 'su UID',
  summary: 'run as user UID in a new process',
  run(ctx, args) {
    nargs(args, 1, 1);
    const r = parseIntIn(args[0], 0, 0xfffffffe, 'UID');
    if (!r.ok) throw new UsageError(r.error);
    const parent = shell_task(ctx);
    if (parent.cred.uid !== 0) throw new CommandError('Authentication failure');
    const pid = check(run_as(parent, sys_fork));
    const child = find_task_by_vpid(pid)!;
    const ret = run_as(child, () => do_su(r.value));
    if (ret < 0) {
      do_exit(child, 1 << 8);
      kernel_wait4(parent, pid, null);
      throw new CommandError(strerror(ret));
    }
    ctx.pid = pid;
    return 0;
  },
};
