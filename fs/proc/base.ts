/**
 * The /proc/PID directories (Linux fs/proc/base.c): one directory per task, live or
 * zombie, holding `status`, `maps` and `smaps`, and /proc/self for the reader's own
 * (a directory here: this procfs has no symlinks). Contents are computed when read; a
 * task reaped in between reads as -ENOENT, as an open of a vanished /proc/PID would.
 *
 * `status` is for everyone; `maps` and `smaps` describe another process's memory and
 * need ptrace_may_access(PTRACE_MODE_READ_FSCREDS), else -EACCES (proc_maps_open ->
 * proc_mem_open -> mm_access). The text is made at open, as the opener.
 */
import { proc_register_dir, type proc_show } from './generic.js';
import { proc_pid_status } from './array.js';
import { show_maps, show_smaps } from './task_mmu.js';
import { cpu_curr, find_task_by_vpid, for_each_process, type task_struct } from '../../kernel/sched.js';
import { EACCES, ENOENT } from '../../kernel/errno.js';
import { PTRACE_MODE_READ_FSCREDS, ptrace_may_access } from '../../kernel/ptrace.js';
import { smp_processor_id } from '../../arch/x86/include/asm/processor.js';

/** The files of a PID directory (tgid_base_stuff). */
const pid_entries: Record<string, (tsk: task_struct) => string | number> = {
  maps: (tsk) => (mm_access(tsk) ? show_maps(tsk.mm) : -EACCES),
  smaps: (tsk) => (mm_access(tsk) ? show_smaps(tsk.mm) : -EACCES),
  status: proc_pid_status,
};

/** mm_access's permission half: may the reader (current, if any) see tsk's memory? */
function mm_access(tsk: task_struct): boolean {
  if (!cpu_curr(smp_processor_id())) return true; // the kernel itself reading
  return ptrace_may_access(tsk, PTRACE_MODE_READ_FSCREDS);
}

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
