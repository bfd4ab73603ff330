/**
 * exit: leave the shell, i.e. end the process the shell runs as (exit(2)) with STATUS
 * (default: the previous command's, as in sh). Its parent reaps it and the shell
 * carries on as the parent, as after leaving a shell started by su. When the shell runs
 * as init (pid 1), or there is no kernel process layer, the shell itself stops.
 */
import { find_task_by_vpid, run_as } from '../../kernel/sched.js';
import { sys_exit } from '../../kernel/exit.js';
import { ShellExit, UsageError, type Command } from '../registry.js';
import { parseIntIn } from '../lib/parse.js';
import { shell_process_ended } from '../lib/process.js';

function shell_pid(ctx: unknown): number | null {
  if (typeof ctx !== 'object' || ctx === null || !('pid' in ctx)) return null;
  const pid = (ctx as { pid: unknown }).pid;
  return typeof pid === 'number' ? pid : null;
}

export const exitCommand: Command<unknown> = {
  name: 'exit',
  usage: 'exit [STATUS]',
  summary: 'leave the shell',
  help: 'STATUS is 0..255; without it the shell exits with the previous command\'s status.\n' +
    'The shell runs as a process: exit ends it, and its parent\'s shell carries on\n' +
    '(after su or fork); exiting init (pid 1) stops the shell.',
  run(ctx, args, io, sh) {
    if (args.length > 1) throw new UsageError('too many arguments');
    let status = sh.lastStatus;
    if (args.length === 1) {
      const r = parseIntIn(args[0], 0, 255, 'STATUS');
      if (!r.ok) throw new UsageError(r.error);
      status = r.value;
    }
    // In $(...), ( ) or a pipeline stage exit leaves that subshell only, as in sh.
    if (sh.inSubshell) throw new ShellExit(status, 'subshell');
    const pid = shell_pid(ctx);
    const tsk = pid === null ? null : find_task_by_vpid(pid);
    // init is left running (killing it would panic Linux): the shell just stops.
    if (!tsk || tsk.exit_state || tsk.pid === 1) throw new ShellExit(status);
    run_as(tsk, () => sys_exit(status));
    return shell_process_ended(ctx as { pid: number }, io, tsk);
  },
};
