/**
 * /proc/PID/status (Linux 6.x fs/proc/array.c proc_pid_status, with task_mem from
 * fs/proc/task_mmu.c): every field Linux prints, in its order and "Name:\tvalue"
 * layout, sizes as "%8lu kB". A zombie shows no Vm* (nor HugetlbPages .. untag_mask)
 * lines, as in Linux. Values this kernel has no concept for are what Linux prints for
 * a task without them: no locked/pinned/swapped pages, no hugetlb, no THP, no LAM
 * (untag_mask all ones), no pending or handled signals, no seccomp; the emulated CPU
 * does not speculate ("not vulnerable", "not affected").
 *
 * State: one thread of control runs this system, the shell's command, as the task the
 * shell runs as (current). That task is running; every other live task is blocked (a
 * parent waiting for the child the shell runs as, any other reading its terminal): S.
 */
import { EXIT_ZOMBIE, cpu_curr, cpu_possible_list, type task_struct } from '../../kernel/sched.js';
import { smp_processor_id } from '../../arch/x86/include/asm/processor.js';
import { CAP_FULL_SET } from '../../kernel/capability.js';
import { VM_EXEC, VM_SHARED, VM_WRITE, type mm_struct } from '../../mm/vma.js';
import { PAGE_SIZE } from '../../arch/x86/include/asm/pgtable_types.js';
import { MAX_NUMNODES } from '../../mm/page.js';
import { nr_online_nodes, totalram_pages } from '../../mm/page_alloc.js';

/** get_task_state: the state letter and word. */
export function task_state_name(tsk: task_struct): string {
  if (tsk.exit_state === EXIT_ZOMBIE) return 'Z (zombie)';
  if (tsk.exit_state) return 'X (dead)';
  return tsk === cpu_curr(smp_processor_id()) ? 'R (running)' : 'S (sleeping)';
}

function kb(name: string, pages_or_bytes: number, bytes = false): string {
  const v = bytes ? pages_or_bytes / 1024 : (pages_or_bytes * PAGE_SIZE) / 1024;
  return `${name}:\t${String(Math.floor(v)).padStart(8)} kB\n`;
}

/** "%*pb": a bitmap of `nbits` as hex, 32-bit chunks separated by commas. */
export function bitmap_string(bits: readonly number[], nbits: number): string {
  const chunks: string[] = [];
  for (let base = Math.floor((nbits - 1) / 32) * 32; base >= 0; base -= 32) {
    let v = 0;
    for (const b of bits) if (b >= base && b < base + 32) v += 2 ** (b - base);
    const width = base + 32 > nbits ? Math.ceil((nbits - base) / 4) : 8;
    chunks.push(v.toString(16).padStart(width, '0'));
  }
  return chunks.join(',');
}

/** "%*pbl": a bitmap as a list of ranges ("0-3", "0,2-3"). */
export function bitmap_list_string(bits: readonly number[]): string {
  const s = [...bits].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < s.length;) {
    let j = i;
    while (j + 1 < s.length && s[j + 1] === s[j] + 1) j++;
    out.push(i === j ? `${s[i]}` : `${s[i]}-${s[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** The session (and process group) leader: the ancestor right below init, init itself for init. */
function session_leader(tsk: task_struct): number {
  let t = tsk;
  while (t.parent && t.parent.parent) t = t.parent;
  return t.pid;
}

/** task_mem's mapping counters: data_vm, stack_vm and exec_vm pages (VM_STACK: none here). */
function vm_counts(mm: mm_struct): { data: number; exec: number } {
  let data = 0, exec = 0;
  for (const vma of mm.mmap) {
    const pages = (vma.vm_end - vma.vm_start) / PAGE_SIZE;
    if ((vma.vm_flags & (VM_WRITE | VM_SHARED)) === VM_WRITE) data += pages; // is_data_mapping
    if ((vma.vm_flags & (VM_EXEC | VM_WRITE)) === VM_EXEC) exec += pages;    // is_exec_mapping
  }
  return { data, exec };
}

/** fdtable max_fds: 64 (NR_OPEN_DEFAULT) growing by powers of two. */
function fdsize(tsk: task_struct): number {
  if (!tsk.files) return 0;
  let n = 64;
  while (n < tsk.files.fd.length) n *= 2;
  return n;
}

/** RLIMIT_SIGPENDING of init: max_threads / 2 (fork_init: totalram / (8 * THREAD_SIZE / PAGE_SIZE)). */
function sigpending_rlimit(): number {
  const max_threads = Math.max(20, Math.floor(totalram_pages() / (8 * 4)));
  return Math.floor(max_threads / 2);
}

const hex16 = (v: bigint): string => v.toString(16).padStart(16, '0');

/** proc_pid_status. */
export function proc_pid_status(tsk: task_struct): string {
  const c = tsk.cred;
  const ids = (v: number): string => `${v}\t${v}\t${v}\t${v}`;
  const sid = session_leader(tsk);
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
    `FDSize:\t${fdsize(tsk)}\n` +
    // "Trailing space shouldn't have been added in the first place." (array.c)
    `Groups:\t${c.groups.join(' ')} \n` +
    `NStgid:\t${tsk.pid}\n` +
    `NSpid:\t${tsk.pid}\n` +
    `NSpgid:\t${sid}\n` +
    `NSsid:\t${sid}\n` +
    `Kthread:\t0\n`;
  const mm = tsk.mm;
  if (mm) {
    const rss = mm.rss_anon + mm.rss_shmem;
    const v = vm_counts(mm);
    s += kb('VmPeak', mm.hiwater_vm) +
      kb('VmSize', mm.total_vm) +
      kb('VmLck', 0) +
      kb('VmPin', 0) +
      kb('VmHWM', Math.max(mm.hiwater_rss, rss)) +
      kb('VmRSS', rss) +
      kb('RssAnon', mm.rss_anon) +
      kb('RssFile', 0) +
      kb('RssShmem', mm.rss_shmem) +
      kb('VmData', v.data) +
      kb('VmStk', 0) +
      kb('VmExe', 0) +
      kb('VmLib', v.exec) +
      kb('VmPTE', mm.pgtables_bytes, true) +
      kb('VmSwap', 0) +
      kb('HugetlbPages', 0) +
      `CoreDumping:\t0\n` +
      `THP_enabled:\t0\n` +
      `untag_mask:\t0xffffffffffffffff\n`;
  }
  const nodes = Array.from({ length: nr_online_nodes() }, (_, i) => i);
  const cpus = cpu_possible_list();
  s += `Threads:\t1\n` +
    `SigQ:\t0/${sigpending_rlimit()}\n` +
    `SigPnd:\t${hex16(0n)}\n` +
    `ShdPnd:\t${hex16(0n)}\n` +
    `SigBlk:\t${hex16(0n)}\n` +
    `SigIgn:\t${hex16(0n)}\n` +
    `SigCgt:\t${hex16(0n)}\n` +
    `CapInh:\t${hex16(0n)}\n` +
    `CapPrm:\t${hex16(c.cap_permitted)}\n` +
    `CapEff:\t${hex16(c.cap_effective)}\n` +
    `CapBnd:\t${hex16(CAP_FULL_SET)}\n` +
    `CapAmb:\t${hex16(0n)}\n` +
    `NoNewPrivs:\t0\n` +
    `Seccomp:\t0\n` +
    `Seccomp_filters:\t0\n` +
    `Speculation_Store_Bypass:\tnot vulnerable\n` +
    `SpeculationIndirectBranch:\tnot affected\n` +
    `Cpus_allowed:\t${bitmap_string(tsk.cpus_mask, cpus.length)}\n` +
    `Cpus_allowed_list:\t${bitmap_list_string(tsk.cpus_mask)}\n` +
    `Mems_allowed:\t${bitmap_string(nodes, MAX_NUMNODES)}\n` +
    `Mems_allowed_list:\t${bitmap_list_string(nodes)}\n` +
    `voluntary_ctxt_switches:\t${tsk.nvcsw}\n` +
    `nonvoluntary_ctxt_switches:\t0\n`;
  return s;
}

