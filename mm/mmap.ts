/**
 * mmap, munmap and address-space teardown (Linux mm/mmap.c, mm/util.c's
 * vm_mmap_pgoff, mm/shmem.c's shmem_zero_setup).
 *
 * Anonymous memory only: MAP_PRIVATE|MAP_ANONYMOUS (pages private to the mm, copied at
 * fork) and MAP_SHARED|MAP_ANONYMOUS (pages in a shmem object shared across fork, shown
 * as "/dev/zero (deleted)" like Linux), with MAP_FIXED / MAP_FIXED_NOREPLACE. Without
 * MAP_ANONYMOUS a file descriptor would be needed: there are no files, so -EBADF.
 *
 * The user address space is [mmap_min_addr, TASK_SIZE) = [0x1000, 0x7ffffffff000).
 * Without MAP_FIXED the range is chosen top-down below mm->mmap_base (0x7f0000000000,
 * no randomisation, so addresses are deterministic), taking the highest gap that fits,
 * then bottom-up above TASK_UNMAPPED_BASE as Linux's fallback; a free hint is honoured.
 *
 * Errors are checked before anything changes, in Linux's order.
 */
import { mmu_notifier_release } from './mmu_notifier.js';
import { mm_drop_all_cpus } from '../arch/x86/mm/tlb.js';
import { free_pgd_range, pgd_free } from '../arch/x86/mm/pgtable.js';
import { tlb_finish_mmu, tlb_gather_mmu, unmap_page_range } from './memory.js';
import {
  TASK_SIZE, USER_PGTABLES_CEILING, VM_ACCOUNT, VM_EXEC, VM_MAYEXEC, VM_MAYREAD, VM_MAYSHARE, VM_NORESERVE,
  VM_MAYWRITE, VM_READ, VM_SHARED, VM_WRITE, find_vma, find_vma_intersection, mmap_min_addr,
  split_vma, sysctl_max_map_count, vm_area_alloc, vm_area_free, vma_link, vma_merge_neighbours,
  vma_get_encrypt_ref, vma_next, vma_prev, vma_unlink, type mm_struct, type vm_area_struct,
} from './vma.js';
import { shmem_init, shmem_zero_setup, type shmem_file } from './shmem.js';
import { PAGE_SIZE, pgprot_keyid } from '../arch/x86/include/asm/pgtable_types.js';
import { current } from '../kernel/sched.js';
import { EBADF, EEXIST, EINVAL, ENOMEM, EPERM } from '../kernel/errno.js';

/* include/uapi/asm-generic/mman-common.h */
export const PROT_NONE = 0x0;
export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const PROT_EXEC = 0x4;
export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_SHARED_VALIDATE = 0x03;
export const MAP_TYPE = 0x0f;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;
export const MAP_POPULATE = 0x8000;
export const MAP_FIXED_NOREPLACE = 0x100000;

/** TASK_UNMAPPED_BASE: PAGE_ALIGN(TASK_SIZE / 3), the bottom-up fallback's floor. */
const TASK_UNMAPPED_BASE = Math.ceil(TASK_SIZE / 3 / PAGE_SIZE) * PAGE_SIZE;

/** Boot: no shmem objects yet. */
export function mmap_init(): void {
  shmem_init();
}

function page_align(len: number): number {
  return Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
}

function valid_number(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** calc_vm_prot_bits: PROT_* to VM_READ/WRITE/EXEC (same values). */
export function calc_vm_prot_bits(prot: number): number {
  return prot & (VM_READ | VM_WRITE | VM_EXEC);
}

/**
 * vm_unmapped_area, top-down: the highest `len` bytes free in [low, high), or -ENOMEM.
 */
function unmapped_area_topdown(mm: mm_struct, len: number, low: number, high: number): number {
  let gap_end = high;
  for (let i = mm.mmap.length - 1; i >= -1; i--) {
    const vma = i >= 0 ? mm.mmap[i] : null;
    const gap_start = vma ? vma.vm_end : 0;
    if (vma && vma.vm_start >= high) continue;
    const end = Math.min(gap_end, high);
    const start = Math.max(gap_start, low);
    if (end - start >= len) return end - len;
    if (!vma || vma.vm_start <= low) break;
    gap_end = vma.vm_start;
  }
  return -ENOMEM;
}

/** vm_unmapped_area, bottom-up: the lowest `len` bytes free in [low, high), or -ENOMEM. */
function unmapped_area(mm: mm_struct, len: number, low: number, high: number): number {
  let gap_start = low;
  for (const vma of [...mm.mmap, null]) {
    if (vma && vma.vm_end <= low) continue;
    const gap_end = vma ? Math.min(vma.vm_start, high) : high;
    if (gap_end - gap_start >= len) return gap_start;
    if (!vma || vma.vm_end >= high) break;
    gap_start = Math.max(gap_start, vma.vm_end);
  }
  return -ENOMEM;
}

/**
 * get_unmapped_area (arch_get_unmapped_area_topdown): where to put `len` bytes.
 * MAP_FIXED takes `addr` as is (page aligned or -EINVAL); otherwise a free hint wins,
 * then the top-down search below mmap_base, then bottom-up.
 */
export function get_unmapped_area(mm: mm_struct, addr: number, len: number, flags: number): number {
  if (len > TASK_SIZE - mmap_min_addr) return -ENOMEM;
  if (flags & MAP_FIXED) {
    if (addr > TASK_SIZE - len) return -ENOMEM;
    if (addr % PAGE_SIZE) return -EINVAL;
    return addr;
  }
  if (addr) {
    addr = page_align(addr);
    if (TASK_SIZE - len >= addr && addr >= mmap_min_addr && !find_vma_intersection(mm, addr, addr + len)) {
      return addr;
    }
  }
  const a = unmapped_area_topdown(mm, len, mmap_min_addr, mm.mmap_base);
  if (a >= 0) return a;
  return unmapped_area(mm, len, TASK_UNMAPPED_BASE, TASK_SIZE);
}

/**
 * mmap_region: map [addr, addr+len) with `vm_flags`, replacing what was there
 * (MAP_FIXED), merging with compatible neighbours. Returns addr or -errno.
 */
function mmap_region(mm: mm_struct, addr: number, len: number, vm_flags: number, pgoff: number,
  shm: shmem_file | null): number {
  if (find_vma_intersection(mm, addr, addr + len)) {
    const ret = do_munmap(mm, addr, len);
    if (ret < 0) return ret;
  }
  // accountable_mapping(): private writable memory is charged to the commit (VM_ACCOUNT).
  if ((vm_flags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) === VM_WRITE) vm_flags |= VM_ACCOUNT;
  const file = shm ?? (vm_flags & VM_SHARED ? shmem_zero_setup() : null);
  const vma = vm_area_alloc(mm, addr, addr + len, vm_flags, pgoff, file);
  if (file?.keyid) {
    // The object's KeyID is every mapper's (mm/shmem.ts): it goes into vm_page_prot.
    vma.vm_page_prot = pgprot_keyid(vma.vm_page_prot, file.keyid);
    vma_get_encrypt_ref(vma);
  }
  vma_link(vma);
  vma_merge_neighbours(vma);
  return addr;
}

/**
 * do_mmap for anonymous memory: validate, choose the range, build vm_flags, map.
 * Returns the address or -errno.
 */
export function do_mmap(mm: mm_struct, addr: number, len: number, prot: number, flags: number,
  file: shmem_file | null = null, off = 0): number {
  if (!valid_number(addr) || !valid_number(len) || !Number.isInteger(prot) || !Number.isInteger(flags)) {
    return -EINVAL;
  }
  if (!len) return -EINVAL;
  if (!(flags & MAP_FIXED) && addr && addr < mmap_min_addr) addr = page_align(mmap_min_addr); // round_hint_to_min
  len = page_align(len);
  if (len > TASK_SIZE) return -ENOMEM;
  if (mm.mmap.length + 1 > sysctl_max_map_count) return -ENOMEM;

  const type = flags & MAP_TYPE;
  if (type !== MAP_SHARED && type !== MAP_PRIVATE) return -EINVAL;
  if (flags & MAP_FIXED_NOREPLACE) flags |= MAP_FIXED;

  addr = get_unmapped_area(mm, addr, len, flags);
  if (addr < 0) return addr;
  if (addr < mmap_min_addr) return -EPERM; // security_mmap_addr
  if (flags & MAP_FIXED_NOREPLACE && find_vma_intersection(mm, addr, addr + len)) return -EEXIST;

  let vm_flags = calc_vm_prot_bits(prot) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
  if (flags & MAP_NORESERVE) vm_flags |= VM_NORESERVE; // overcommit_memory is not OVERCOMMIT_NEVER
  let pgoff: number;
  if (file) {
    // A shmem file mapped MAP_PRIVATE would need copy-on-write of its pages, which this
    // tree does not have: only MAP_SHARED mappings of objects (-EINVAL otherwise).
    if (type !== MAP_SHARED) return -EINVAL;
    vm_flags |= VM_SHARED | VM_MAYSHARE;
    pgoff = off / PAGE_SIZE;
  } else if (type === MAP_SHARED) {
    vm_flags |= VM_SHARED | VM_MAYSHARE;
    pgoff = 0; // "Ignore pgoff."
  } else {
    pgoff = addr / PAGE_SIZE; // "Set pgoff according to addr for anon_vma."
  }
  return mmap_region(mm, addr, len, vm_flags, pgoff, file);
}

/**
 * do_munmap: remove [start, start+len) from `mm`, splitting VMAs at the edges, freeing
 * the pages (after a TLB shootdown) and the page tables nothing else uses. 0 or -errno.
 */
export function do_munmap(mm: mm_struct, start: number, len: number): number {
  if (!valid_number(start) || !valid_number(len)) return -EINVAL;
  if (start % PAGE_SIZE || start > TASK_SIZE || len > TASK_SIZE - start) return -EINVAL;
  len = page_align(len);
  if (len === 0) return -EINVAL;
  const end = start + len;

  const first = find_vma(mm, start);
  if (!first || first.vm_start >= end) return 0;
  const last = find_vma(mm, end - 1);
  const split_end = last !== null && last.vm_start < end && end < last.vm_end;
  const splits = (start > first.vm_start ? 1 : 0) + (split_end ? 1 : 0);
  if (mm.mmap.length + splits > sysctl_max_map_count) return -ENOMEM;

  // Cut at the edges: the pieces inside [start, end) then go as whole VMAs.
  if (start > first.vm_start && typeof split_vma(first, start, false) === 'number') return -ENOMEM;
  if (split_end) {
    const tail = find_vma(mm, end - 1)!;
    if (typeof split_vma(tail, end, true) === 'number') return -ENOMEM;
  }

  const doomed: vm_area_struct[] = [];
  for (let v = find_vma(mm, start); v && v.vm_start < end; v = vma_next(v)) doomed.push(v);
  const prev = vma_prev(doomed[0]);
  const next = vma_next(doomed[doomed.length - 1]);
  const tlb = tlb_gather_mmu(mm);
  for (const v of doomed) unmap_page_range(tlb, v, v.vm_start, v.vm_end);
  free_pgd_range(mm, start, end, prev ? prev.vm_end : 0, next ? next.vm_start : USER_PGTABLES_CEILING, tlb.tables);
  for (const v of doomed) vma_unlink(v);
  tlb_finish_mmu(tlb);
  for (const v of doomed) vm_area_free(v);
  return 0;
}

/**
 * exit_mmap: tear the whole address space down. Every CPU drops the mm first (its CR3
 * write flushes the TLB), then pages, VMAs (their KeyID references), page tables and
 * the pgd are released.
 */
export function exit_mmap(mm: mm_struct): void {
  mmu_notifier_release(mm);
  const tlb = tlb_gather_mmu(mm);
  for (const v of mm.mmap) unmap_page_range(tlb, v, v.vm_start, v.vm_end);
  free_pgd_range(mm, 0, USER_PGTABLES_CEILING, 0, USER_PGTABLES_CEILING, tlb.tables);
  mm_drop_all_cpus(mm);
  tlb_finish_mmu(tlb);
  const vmas = mm.mmap;
  mm.mmap = [];
  mm.total_vm = 0;
  for (const v of vmas) vm_area_free(v);
  pgd_free(mm);
}

/**
 * mmap(2): addr, len, prot, flags, fd, off. Anonymous mappings only (fd is ignored
 * with MAP_ANONYMOUS, as in Linux; it is conventionally -1). The address or -errno.
 */
export function sys_mmap(addr: number, len: number, prot: number, flags: number, fd = -1, off = 0): number {
  if (!valid_number(off) || off % PAGE_SIZE) return -EINVAL;
  if (!Number.isInteger(flags)) return -EINVAL;
  if (!(flags & MAP_ANONYMOUS)) return -EBADF; // fget(fd): there are no files
  void fd;
  const mm = current().mm;
  if (!mm) return -ENOMEM;
  return do_mmap(mm, addr, len, prot, flags);
}

/**
 * mmap(2) of a shared-memory object (what mmap(fd) does for an fd from shm_open):
 * MAP_SHARED only; `off` page aligned. The mapping takes the object's KeyID.
 */
export function sys_mmap_shm(addr: number, len: number, prot: number, flags: number, file: shmem_file, off = 0): number {
  if (!valid_number(off) || off % PAGE_SIZE) return -EINVAL;
  if (!Number.isInteger(flags) || flags & MAP_ANONYMOUS) return -EINVAL;
  const mm = current().mm;
  if (!mm) return -ENOMEM;
  return do_mmap(mm, addr, len, prot, flags, file, off);
}

/** munmap(2). 0 or -errno. */
export function sys_munmap(addr: number, len: number): number {
  const mm = current().mm;
  if (!mm) return -EINVAL;
  return do_munmap(mm, addr, len);
}
