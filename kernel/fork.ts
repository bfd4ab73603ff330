/**
 * Creating processes (Linux kernel/fork.c): address spaces (mm_alloc, dup_mm, mmput),
 * copy_process / kernel_clone for fork, and the first process, init.
 *
 * fork copies the parent's VMAs one by one (vm_area_dup takes each encrypted VMA's
 * KeyID reference) and their pages with copy_page_range: private pages eagerly into new
 * pages of the same KeyID, shared ones by reference. The child gets the next PID, the
 * parent's credentials (copy_creds) and name, and the next CPU round-robin.
 */
import { rdtsc } from '../arch/x86/include/asm/processor.js';
import { pgd_alloc } from '../arch/x86/mm/pgtable.js';
import { copy_page_range } from '../mm/memory.js';
import { exit_mmap } from '../mm/mmap.js';
import { mm_struct_init, vm_area_dup, vma_link, type mm_struct } from '../mm/vma.js';
import { copy_creds, prepare_init_cred, put_cred, type cred } from './cred.js';
import {
  TASK_RUNNING, alloc_pid, attach_pid, cpu_possible_list, current, select_task_rq, type task_struct,
} from './sched.js';
import { ENOMEM } from './errno.js';
import { IS_ERR } from './err.js';
import { dup_fd, files_alloc, type files_struct } from '../fs/file.js';

/** mm_alloc: an empty address space with its own pgd, or -ENOMEM. */
export function mm_alloc(): mm_struct | number {
  const mm = mm_struct_init(0);
  const pgd = pgd_alloc(mm);
  if (pgd < 0) return pgd;
  mm.pgd = pgd;
  return mm;
}

/** mmput: drop a user of the mm; the last one tears it down (exit_mmap, pgd_free). */
export function mmput(mm: mm_struct): void {
  if (--mm.mm_users > 0) return;
  exit_mmap(mm);
}

/** dup_mm: a copy of `oldmm` for a child, or -ENOMEM (nothing left allocated). */
export function dup_mm(oldmm: mm_struct): mm_struct | number {
  const mm = mm_alloc();
  if (IS_ERR(mm)) return mm;
  mm.mmap_base = oldmm.mmap_base;
  try {
    for (const vma of oldmm.mmap) {
      const tmp = vm_area_dup(vma, mm);
      vma_link(tmp);
      const ret = copy_page_range(tmp, vma);
      if (ret < 0) {
        mmput(mm);
        return ret;
      }
    }
  } catch (e) {
    mmput(mm); // an oops while copying: the half-built mm goes, with its pages and KeyIDs
    throw e;
  }
  mm.hiwater_rss = mm.rss_anon + mm.rss_shmem;
  return mm;
}

function new_task(pid: number, comm: string, parent: task_struct | null, mm: mm_struct, c: cred,
  files: files_struct): task_struct {
  return {
    pid, comm, __state: TASK_RUNNING, exit_state: 0, exit_code: 0, parent, children: [], mm, cred: c, files,
    cpu: select_task_rq(parent?.cpus_mask), cpus_mask: parent ? [...parent.cpus_mask] : cpu_possible_list(),
    nvcsw: 0, start_time: rdtsc(),
  };
}

/** copy_process: a new task copied from `parent` (fork without CLONE_* flags), or -errno. */
export function copy_process(parent: task_struct): task_struct | number {
  if (!parent.mm) return -ENOMEM;
  const c = copy_creds(parent.cred);
  if (IS_ERR(c)) return c;
  const mm = dup_mm(parent.mm);
  if (IS_ERR(mm)) {
    put_cred(c);
    return mm;
  }
  const pid = alloc_pid();
  if (pid < 0) {
    mmput(mm);
    put_cred(c);
    return pid;
  }
  // copy_files: the child's descriptors refer to the parent's open files
  const child = new_task(pid, parent.comm, parent, mm, c, dup_fd(parent.files));
  parent.children.push(child);
  attach_pid(child);
  return child;
}

/** kernel_clone: fork `parent`; the child's PID or -errno. */
export function kernel_clone(parent: task_struct): number {
  const child = copy_process(parent);
  return IS_ERR(child) ? child : child.pid;
}

/** fork(2) for the current task. */
export function sys_fork(): number {
  return kernel_clone(current());
}

/** pid 1: root credentials, an empty address space, named "init". Task or -errno. */
export function create_init_task(): task_struct | number {
  const mm = mm_alloc();
  if (IS_ERR(mm)) return mm;
  const pid = alloc_pid();
  if (pid !== 1) throw new Error(`create_init_task: got pid ${pid}`);
  const init = new_task(pid, 'init', null, mm, prepare_init_cred(), files_alloc());
  attach_pid(init);
  return init;
}
