/**
 * ps: list the processes: PID, parent, uid, the CPU each runs on, state (procps's STAT:
 * the letter of /proc/PID/status's State, fs/proc/array.ts task_state_name: R for the
 * process the shell runs as, which is running ps, S for a sleeping one, Z for a zombie;
 * '+' marks the shell's), resident memory and name. Zombies show as "[name] <defunct>",
 * as procps prints them.
 */
import { for_each_process, run_as } from '../../kernel/sched.js';
import { shell_task } from '../lib/process.js';
import { task_state_name } from '../../fs/proc/array.js';
import { PAGE_SIZE } from '../../arch/x86/include/asm/pgtable_types.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';

export const psCommand: Command<KernelShellContext> = {
  name: 'ps',
  usage: 'ps',
  summary: 'list processes',
  run(ctx, args, io) {
    if (args.length > 0) throw new UsageError('too many arguments');
    // As the shell's process sees them (its CPU, its task current there), as procps reads /proc.
    const out = run_as(shell_task(ctx), () => {
      let text = '  PID  PPID   UID PSR STAT   RSS COMMAND\n';
      for (const t of for_each_process()) {
        const zombie = t.exit_state !== 0;
        const self = t.pid === ctx.pid;
        const stat = (self && !zombie ? 'R' : task_state_name(t)[0]) + (self ? '+' : '');
        const rss = t.mm ? ((t.mm.rss_anon + t.mm.rss_shmem) * PAGE_SIZE) / 1024 : 0;
        const name = zombie ? `[${t.comm}] <defunct>` : t.comm;
        text += `${String(t.pid).padStart(5)} ${String(t.parent?.pid ?? 0).padStart(5)} ` +
          `${String(t.cred.uid).padStart(5)} ${String(t.cpu).padStart(3)} ${stat.padEnd(4)} ` +
          `${String(rss).padStart(5)} ${name}\n`;
      }
      return text;
    });
    io.out(out);
    return 0;
  },
};
