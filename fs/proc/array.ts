/**
 * /proc/PID/status (Linux fs/proc/array.c proc_pid_status, with task_mem from
 * fs/proc/task_mmu.c): name, state, IDs, credentials, and the memory lines of a task
 * that still has an address space, in Linux's "Name:\tvalue" layout with sizes as
 * "%8lu kB". A zombie shows no Vm* lines, as in Linux.
 */
import { EXIT_ZOMBIE, type task_struct } from '../../kernel/sched.js';
import { PAGE_SIZE } from '../../arch/x86/include/asm/pgtable_types.js';

/** get_task_state: the state letter and word. */
export function task_state_name(tsk: task_struct): string {
  if (tsk.exit_state === EXIT_ZOMBIE) return 'Z (zombie)';
  if (tsk.exit_state) return 'X (dead)';
  return 'R (running)';
}

function kb(name: string, pages_or_bytes: number, bytes = false): string {
  const v = bytes ? pages_or_bytes / 1024 : (pages_or_bytes * PAGE_SIZE) / 1024;
  return `${name}:\t${String(Math.floor(v)).padStart(8)} kB\n`;
}

/** proc_pid_status. */
export function proc_pid_status(tsk: task_struct): string {
  const c = tsk.cred;
  const ids = (v: number): string => `${v}\t${v}\t${v}\t${v}`;
  let s = `Name:\t${tsk.comm}\n` +
    `Umask:\t0022\n` +
    `State:\t${task_state_name(tsk)}\n` +
    `Tgid:\t${tsk.pid}\n` +
    `Ngid:\t0\n` +
    `Pid:\t${tsk.pid}\n` +
    `PPid:\t${tsk.parent?.pid ?? 0}\n` +
    `TracerPid:\t0\n` +
    `Uid:\t${ids(c.uid)}\n` +
    `Gid:\t${ids(c.gid)}\n` +
    `Groups:\t${c.groups.map((g) => `${g} `).join('')}\n`;
  const mm = tsk.mm;
  if (mm) {
    const rss = mm.rss_anon + mm.rss_shmem;
    s += kb('VmPeak', mm.hiwater_vm) +
      kb('VmSize', mm.total_vm) +
      kb('VmHWM', Math.max(mm.hiwater_rss, rss)) +
      kb('VmRSS', rss) +
      kb('RssAnon', mm.rss_anon) +
      kb('RssFile', 0) +
      kb('RssShmem', mm.rss_shmem) +
      kb('VmPTE', mm.pgtables_bytes, true);
  }
  s += `Threads:\t1\n` +
    `Cpus_allowed_list:\t${tsk.cpu}\n`;
  return s;
}
