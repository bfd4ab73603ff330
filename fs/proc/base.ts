/**
 * The /proc/PID directories (Linux fs/proc/base.c): one directory per task, live or
 * zombie, holding `status`, `maps` and `smaps`, and /proc/self for the reader's own
 * (a directory here: this procfs has no symlinks). Contents are computed when read; a
 * task reaped in between reads as -ENOENT, as an open of a vanished /proc/PID would.
 */
import { proc_register_dir, type proc_show } from './generic.js';
import { proc_pid_status } from './array.js';
import { show_maps, show_smaps } from './task_mmu.js';
import { cpu_curr, find_task_by_vpid, for_each_process, type task_struct } from '../../kernel/sched.js';
import { smp_processor_id } from '../../arch/x86/include/asm/processor.js';
import { ENOENT } from '../../kernel/errno.js';

/** The files of a PID directory (tgid_base_stuff). */
const pid_entries: Record<string, (tsk: task_struct) => string> = {
  maps: (tsk) => show_maps(tsk.mm),
  smaps: (tsk) => show_smaps(tsk.mm),
  status: proc_pid_status,
};

function pid_file(pid: number, name: string): proc_show {
  return () => {
    const tsk = find_task_by_vpid(pid);
    return tsk ? pid_entries[name](tsk) : -ENOENT;
  };
}

/**
 * /proc/self (proc_self_get_link): the PID of the task looking, resolved when the path
 * is walked; 0 (no such entry) for a lookup from no task.
 */
function self_pid(): number {
  return cpu_curr(smp_processor_id())?.pid ?? 0;
}

/** Register /proc/PID/* and /proc/self (Linux: proc_pid_lookup / proc_pid_readdir). Call at boot. */
export function proc_pid_init(): void {
  proc_register_dir('/proc', {
    list: () => {
      const names = (dir: string | number): string[] => Object.keys(pid_entries).map((n) => `${dir}/${n}`);
      return [...(self_pid() ? names('self') : []), ...for_each_process().flatMap((t) => names(t.pid))];
    },
    lookup(rest: string): proc_show | null {
      const m = /^([1-9][0-9]*|self)\/([a-z]+)$/.exec(rest);
      if (!m || !(m[2] in pid_entries)) return null;
      const pid = m[1] === 'self' ? self_pid() : Number(m[1]);
      return pid && find_task_by_vpid(pid) ? pid_file(pid, m[2]) : null;
    },
  });
}
