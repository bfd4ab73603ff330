/**
 * ps: list the processes: PID, parent, uid, the CPU each runs on, state (R running, Z
 * zombie; '+' marks the one the shell runs as), resident memory and name. Zombies
 * show as "[name] <defunct>", as procps prints them.
 */
import { for_each_process } from '../../kernel/sched.js';
import { PAGE_SIZE } from '../../arch/x86/include/asm/pgtable_types.js';
import { UsageError, type Command } from '../registry.js';
import type { KernelShellContext } from '../context.js';

export const psCommand: Command<KernelShellContext> = {
  name: 'ps',
  usage: 'ps',
  summary: 'list processes',
  run(ctx, args, io) {
    if (args.length > 0) throw new UsageError('too many arguments');
    let out = '  PID  PPID   UID PSR STAT   RSS COMMAND\n';
    for (const t of for_each_process()) {
      const zombie = t.exit_state !== 0;
      const stat = (zombie ? 'Z' : 'R') + (t.pid === ctx.pid ? '+' : '');
      const rss = t.mm ? ((t.mm.rss_anon + t.mm.rss_shmem) * PAGE_SIZE) / 1024 : 0;
      const name = zombie ? `[${t.comm}] <defunct>` : t.comm;
      out += `${String(t.pid).padStart(5)} ${String(t.parent?.pid ?? 0).padStart(5)} ` +
        `${String(t.cred.uid).padStart(5)} ${String(t.cpu).padStart(3)} ${stat.padEnd(4)} ` +
        `${String(rss).padStart(5)} ${name}\n`;
    }
    io.out(out);
    return 0;
  },
};
