/**
 * Address spaces and their VMAs (Linux include/linux/mm_types.h, mm/mmap.c's VMA tree
 * operations, kernel/fork.c's vm_area_alloc/dup/free).
 *
 * An mm_struct holds its VMAs in one array sorted by address, searched by binary
 * search (Linux used an rbtree, now a maple tree; the contract is the same: find_vma
 * returns the first VMA ending above an address). VMAs never overlap.
 *
 * MKTME (Kirill Shutemov's series of July 2019: [PATCHv2 10/59], which keeps the KeyID in
 * vm_page_prot, and its vma_keyid(), _PAGE_CHG_MASK and is_mergeable_vma() changes):
 *  - an encrypted VMA keeps its KeyID in vm_page_prot's address bits, so mk_pte()
 *    carries it into every PTE; vma_keyid() reads it back;
 *  - VMAs never merge across KeyIDs (is_mergeable_vma checks vma_keyid);
 *  - every VMA with a KeyID holds one reference on it: vm_area_dup() takes one,
 *    vm_area_free() drops it (vma_get/put_encrypt_ref).
 *
 * MAP_SHARED|MAP_ANONYMOUS memory is backed by a shmem_file, as Linux's
 * shmem_zero_setup() backs it with a "/dev/zero (deleted)" shmem file: such a VMA has
 * a vm_file (Linux: vm_ops), so vma_is_anonymous() is false for it, exactly why the
 * MKTME series refuses encrypt_mprotect() on it.
 */
import {
  _PAGE_ACCESSED, _PAGE_GLOBAL, _PAGE_NX_HI, _PAGE_PRESENT, _PAGE_RW, _PAGE_USER, __pgprot,
  pgprot_keyid, pte_keyid, pte_modify, type pgprot_t, PAGE_SIZE,
} from '../arch/x86/include/asm/pgtable_types.js';
import { shmem_file_get, shmem_file_put, type shmem_file } from './shmem.js';
import { keyid_get, keyid_put } from '../kernel/cred.js';
import { ENOMEM } from '../kernel/errno.js';

/** TASK_SIZE_MAX on 4-level x86-64: (1 << 47) - PAGE_SIZE; user space ends here. */
export const TASK_SIZE = 2 ** 47 - PAGE_SIZE;
/** The user half of the address space (what user page tables may cover). */
export const USER_PGTABLES_CEILING = 2 ** 47;
/** vm.mmap_min_addr default on x86 (4096). */
export const mmap_min_addr = PAGE_SIZE;
/** vm.max_map_count default (DEFAULT_MAX_MAP_COUNT = 65530). */
export const sysctl_max_map_count = 65530;

/* vm_flags (include/linux/mm.h). */
export const VM_NONE = 0;
export const VM_READ = 0x1;
export const VM_WRITE = 0x2;
export const VM_EXEC = 0x4;
export const VM_SHARED = 0x8;
export const VM_MAYREAD = 0x10;
export const VM_MAYWRITE = 0x20;
export const VM_MAYEXEC = 0x40;
export const VM_MAYSHARE = 0x80;
export const VM_ACCOUNT = 0x00100000;
export const VM_NORESERVE = 0x00200000;

/**
 * x86's _PAGE_PROTNONE: a PROT_NONE entry keeps its frame and KeyID but is not
 * present (Linux reuses the global bit, which user entries never set).
 */
export const _PAGE_PROTNONE = _PAGE_GLOBAL;

export type { shmem_file };

export interface vm_area_struct {
  vm_mm: mm_struct;
  vm_start: number;
  vm_end: number;
  vm_flags: number;
  /** Protection bits of the PTEs, KeyID included (the MKTME series' vm_page_prot). */
  vm_page_prot: pgprot_t;
  /** Offset in pages: in the shmem object; addr >> PAGE_SHIFT for private anonymous. */
  vm_pgoff: number;
  vm_file: shmem_file | null;
}

export interface mm_struct {
  /** Physical address of the PML4 (CR3 value, KeyID 0). */
  pgd: number;
  /** VMAs sorted by vm_start. */
  mmap: vm_area_struct[];
  /** mm_users: tasks using the address space. */
  mm_users: number;
  /** CPUs that may hold TLB entries of this mm (mm_cpumask). */
  cpumask: Set<number>;
  /** RSS counters: MM_ANONPAGES and MM_SHMEMPAGES. */
  rss_anon: number;
  rss_shmem: number;
  hiwater_rss: number;
  /** Pages of VMAs (total_vm) and its high-water mark. */
  total_vm: number;
  hiwater_vm: number;
  /** Bytes of user page-table pages (VmPTE). */
  pgtables_bytes: number;
  /** Top of the mmap area; allocation goes top-down below it. */
  mmap_base: number;
}

/** The top of the top-down mmap area: 0x7f0000000000 (deterministic, no ASLR). */
export const MMAP_BASE = 0x7f0000000000;

export function mm_struct_init(pgd: number): mm_struct {
  return {
    pgd, mmap: [], mm_users: 1, cpumask: new Set(), rss_anon: 0, rss_shmem: 0, hiwater_rss: 0,
    total_vm: 0, hiwater_vm: 0, pgtables_bytes: 0, mmap_base: MMAP_BASE,
  };
}

export function get_mm_rss(mm: mm_struct): number { return mm.rss_anon + mm.rss_shmem; }

/** Update the RSS high-water mark (Linux: update_hiwater_rss). */
export function update_hiwater_rss(mm: mm_struct): void {
  mm.hiwater_rss = Math.max(mm.hiwater_rss, get_mm_rss(mm));
}

// --- the sorted VMA array ---------------------------------------------------------------

/** Index of the first VMA with vm_end > addr (mm.mmap.length if none). */
function lower_bound(mm: mm_struct, addr: number): number {
  let lo = 0;
  let hi = mm.mmap.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (mm.mmap[mid].vm_end > addr) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** find_vma: the first VMA with vm_end > addr (it may start above addr), or null. */
export function find_vma(mm: mm_struct, addr: number): vm_area_struct | null {
  return mm.mmap[lower_bound(mm, addr)] ?? null;
}

/** find_vma_intersection: the first VMA overlapping [start, end), or null. */
export function find_vma_intersection(mm: mm_struct, start: number, end: number): vm_area_struct | null {
  const vma = find_vma(mm, start);
  return vma && vma.vm_start < end ? vma : null;
}

/** The VMA just below `vma` (vm_prev), or null. */
export function vma_prev(vma: vm_area_struct): vm_area_struct | null {
  return vma.vm_mm.mmap[vma_index(vma) - 1] ?? null;
}

/** The VMA just above `vma` (vm_next), or null. */
export function vma_next(vma: vm_area_struct): vm_area_struct | null {
  return vma.vm_mm.mmap[vma_index(vma) + 1] ?? null;
}

function vma_index(vma: vm_area_struct): number {
  const i = lower_bound(vma.vm_mm, vma.vm_start);
  if (vma.vm_mm.mmap[i] !== vma) throw new Error('vma_index: VMA not in its mm');
  return i;
}

/** vma_link: insert a VMA into its mm (it must not overlap any other). */
export function vma_link(vma: vm_area_struct): void {
  const mm = vma.vm_mm;
  const i = lower_bound(mm, vma.vm_start);
  const next = mm.mmap[i];
  if (next && next.vm_start < vma.vm_end) throw new Error('vma_link: overlapping VMA');
  mm.mmap.splice(i, 0, vma);
  mm.total_vm += vma_pages(vma);
  mm.hiwater_vm = Math.max(mm.hiwater_vm, mm.total_vm);
}

/** Remove a VMA from its mm's array (the caller frees it). */
export function vma_unlink(vma: vm_area_struct): void {
  vma.vm_mm.mmap.splice(vma_index(vma), 1);
  vma.vm_mm.total_vm -= vma_pages(vma);
}

export function vma_pages(vma: vm_area_struct): number {
  return (vma.vm_end - vma.vm_start) / PAGE_SIZE;
}

// --- VMA lifetime and KeyID references ------------------------------------------------

/** The KeyID of a VMA, read from vm_page_prot (__vma_keyid). */
export function vma_keyid(vma: vm_area_struct): number {
  return pte_keyid(vma.vm_page_prot);
}

/** Linux: !vma->vm_ops. Shared anonymous (shmem) mappings are not anonymous. */
export function vma_is_anonymous(vma: vm_area_struct): boolean {
  return vma.vm_file === null;
}

/** vma_get_encrypt_ref: a VMA with a KeyID pins it ([PATCHv2 44/59]). */
export function vma_get_encrypt_ref(vma: vm_area_struct): void {
  const keyid = vma_keyid(vma);
  if (keyid) keyid_get(keyid, 1);
}

export function vma_put_encrypt_ref(vma: vm_area_struct): void {
  const keyid = vma_keyid(vma);
  if (keyid) keyid_put(keyid, 1);
}

/** A new, unlinked VMA (KeyID 0, so no reference yet). */
export function vm_area_alloc(mm: mm_struct, start: number, end: number, vm_flags: number,
  pgoff: number, file: shmem_file | null): vm_area_struct {
  if (file) shmem_file_get(file);
  return { vm_mm: mm, vm_start: start, vm_end: end, vm_flags, vm_page_prot: vm_get_page_prot(vm_flags), vm_pgoff: pgoff, vm_file: file };
}

/** vm_area_dup: a copy (same mm) that takes its own KeyID and file references. */
export function vm_area_dup(orig: vm_area_struct, mm: mm_struct = orig.vm_mm): vm_area_struct {
  const vma = { ...orig, vm_mm: mm, vm_page_prot: { ...orig.vm_page_prot } };
  vma_get_encrypt_ref(vma);
  if (vma.vm_file) shmem_file_get(vma.vm_file);
  return vma;
}

/** vm_area_free: drop the VMA's KeyID and file references (it is already unlinked). */
export function vm_area_free(vma: vm_area_struct): void {
  vma_put_encrypt_ref(vma);
  if (vma.vm_file) shmem_file_put(vma.vm_file);
}

// --- protections ---------------------------------------------------------------------------

/**
 * vm_get_page_prot: the x86 protection_map. Read is implied by write and by exec (no
 * protection keys). Writable private mappings get RW directly: this tree copies at fork
 * instead of sharing copy-on-write, so it never needs PAGE_COPY. User pages are NX
 * unless executable. No access at all is _PAGE_PROTNONE (not present).
 */
export function vm_get_page_prot(vm_flags: number): pgprot_t {
  const acc = vm_flags & (VM_READ | VM_WRITE | VM_EXEC);
  if (!acc) return __pgprot(_PAGE_PROTNONE | _PAGE_ACCESSED, _PAGE_NX_HI);
  let lo = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
  if (acc & VM_WRITE) lo |= _PAGE_RW;
  return __pgprot(lo, acc & VM_EXEC ? 0 : _PAGE_NX_HI);
}

/** pgprot_modify: new protection bits, the old prot's _PAGE_CHG_MASK bits (KeyID) kept. */
export function pgprot_modify(oldprot: pgprot_t, newprot: pgprot_t): pgprot_t {
  return pte_modify(oldprot, newprot);
}

// --- merging and splitting ----------------------------------------------------------------

/**
 * is_mergeable_vma with the MKTME check: same flags, same backing, same KeyID
 * ("if (vma_keyid(vma) != keyid) return 0", [PATCHv2]).
 */
export function is_mergeable_vma(a: vm_area_struct, b: vm_area_struct): boolean {
  if (a.vm_flags !== b.vm_flags || a.vm_file !== b.vm_file) return false;
  if (vma_keyid(a) !== vma_keyid(b)) return false;
  if (a.vm_page_prot.lo !== b.vm_page_prot.lo || a.vm_page_prot.hi !== b.vm_page_prot.hi) return false;
  // Contiguous file offsets (anonymous private VMAs use addr >> PAGE_SHIFT, always contiguous).
  const lo = a.vm_start < b.vm_start ? a : b;
  const hi = lo === a ? b : a;
  return lo.vm_end === hi.vm_start && lo.vm_pgoff + vma_pages(lo) === hi.vm_pgoff;
}

/**
 * Merge `vma` with its neighbours where is_mergeable_vma allows (the outcome of Linux's
 * vma_merge for mmap_region and mprotect_fixup). Returns the VMA now covering vma's range.
 */
export function vma_merge_neighbours(vma: vm_area_struct): vm_area_struct {
  const next = vma_next(vma);
  if (next && is_mergeable_vma(vma, next)) {
    vma_unlink(next);
    vma.vm_mm.total_vm += vma_pages(next);
    vma.vm_end = next.vm_end;
    vm_area_free(next);
  }
  const prev = vma_prev(vma);
  if (prev && is_mergeable_vma(prev, vma)) {
    vma_unlink(vma);
    prev.vm_mm.total_vm += vma_pages(vma);
    prev.vm_end = vma.vm_end;
    vm_area_free(vma);
    return prev;
  }
  return vma;
}

/**
 * split_vma: cut `vma` at `addr` (page aligned, strictly inside). With new_below the
 * new VMA is the lower part, else the upper. Returns the new VMA or -ENOMEM when the
 * mm has sysctl_max_map_count VMAs already.
 */
export function split_vma(vma: vm_area_struct, addr: number, new_below: boolean): vm_area_struct | number {
  const mm = vma.vm_mm;
  if (mm.mmap.length >= sysctl_max_map_count) return -ENOMEM;
  if (addr <= vma.vm_start || addr >= vma.vm_end || addr % PAGE_SIZE) throw new Error('split_vma: bad address');
  const created = vm_area_dup(vma);
  mm.total_vm -= vma_pages(vma);
  if (new_below) {
    created.vm_end = addr;
    vma.vm_pgoff += (addr - vma.vm_start) / PAGE_SIZE;
    vma.vm_start = addr;
  } else {
    created.vm_start = addr;
    created.vm_pgoff += (addr - vma.vm_start) / PAGE_SIZE;
    vma.vm_end = addr;
  }
  mm.total_vm += vma_pages(vma);
  // vma stays at its index; the new piece goes just before or after it.
  const i = vma_index(vma);
  mm.mmap.splice(new_below ? i : i + 1, 0, created);
  mm.total_vm += vma_pages(created);
  return created;
}
