/**
 * User page tables (Linux arch/x86/mm/pgtable.c, mm/memory.c's __pte_alloc and
 * free_pgtables, include/linux/pgtable.h's accessors).
 *
 * Each mm has a 4-level tree in emulated memory: a PML4 (pgd) whose upper half (entries
 * 256..511) is copied from the kernel's, as pgd_alloc does, and PDPT, PD and PT pages
 * allocated as the user half fills in. The copy is made once (no sync_global_pgds):
 * every kernel PML4 entry exists from boot, and the tables below them are shared. Every table page is KeyID 0 kernel memory and is
 * read and written through the kernel's KeyID-0 direct map with 32-bit loads and stores
 * on the current CPU, so any CR3 will do (the kernel half is in every pgd).
 *
 *   level 0 PML4  va bits 47:39   each entry covers 512 GiB
 *   level 1 PDPT  va bits 38:30                         1 GiB
 *   level 2 PD    va bits 29:21                         2 MiB
 *   level 3 PT    va bits 20:12   leaves: 4 KiB pages
 *
 * A pointer "ptep" is the kernel virtual address of an entry. Entries are written high
 * half first when made present and low half (P) first when cleared, so a walker never
 * sees a present entry with a half-written address.
 */
import { __va } from './init.js';
import { init_mm_pgd } from './init.js';
import {
  _PAGE_PRESENT, _PAGE_PSE, _PAGE_TABLE, PAGE_SIZE, pa_pte, pte_addr, type pte_t, LEVEL_SHIFT,
} from '../include/asm/pgtable_types.js';
import { readl, writel } from '../include/asm/processor.js';
import { GFP_KERNEL, __GFP_ZERO, __free_pages, alloc_pages, max_pfn } from '../../../mm/page_alloc.js';
import { pr_err } from '../../../kernel/printk.js';
import type { mm_struct } from '../../../mm/vma.js';
import { ENOMEM } from '../../../kernel/errno.js';

export const PTRS_PER_TABLE = 512;
/** Index shift of each level: PML4, PDPT, PD, PT. */
/** First PML4 entry of the kernel half (0xffff800000000000). */
export const KERNEL_PGD_BOUNDARY = 256;

function index_of(va: number, level: number): number {
  return Math.floor(va / 2 ** LEVEL_SHIFT[level]) % PTRS_PER_TABLE;
}

function entry_ptr(table_pa: number, index: number): number {
  return __va(table_pa + index * 8);
}

const LEVEL_NAME = ['pgd', 'pud', 'pmd'];

/**
 * pgd_bad / pud_bad / pmd_bad for a present entry of the user half: it must point at a
 * page-table page in RAM, KeyID 0, no reserved address bits, and not be a huge-page
 * leaf (user memory uses 4 KiB pages only). Something else there means the tables were
 * overwritten (root's devmem, the attacker's dimm write).
 */
function table_entry_bad(e: pte_t): boolean {
  return (e.lo & _PAGE_PSE) !== 0 || !(pte_addr(e) / PAGE_SIZE < max_pfn);
}

/**
 * pgd/pud/pmd_clear_bad: report the entry (pmd_ERROR's "bad pmd PTR(VALUE)") and clear
 * it, so no walker follows it; the table it once pointed to is lost, as in Linux.
 */
function clear_bad(ptep: number, level: number, e: pte_t): void {
  const ptr = (BigInt(ptep) | 0xffff000000000000n).toString(16);
  const val = ((BigInt(e.hi >>> 0) << 32n) | BigInt(e.lo >>> 0)).toString(16).padStart(16, '0');
  pr_err(`pgtable: bad ${LEVEL_NAME[level]} ${ptr}(${val})`);
  write_entry(ptep, { lo: 0, hi: 0 });
}

/** The table a present entry points to, or 0 after clearing a bad one. */
function next_table(ptep: number, level: number, e: pte_t): number {
  if (table_entry_bad(e)) {
    clear_bad(ptep, level, e);
    return 0;
  }
  return pte_addr(e);
}

/** ptep_get: read an entry. */
export function ptep_get(ptep: number): pte_t {
  return { lo: readl(ptep), hi: readl(ptep + 4) };
}

function write_entry(ptep: number, pte: pte_t): void {
  if (pte.lo & _PAGE_PRESENT) {
    writel(ptep + 4, pte.hi);
    writel(ptep, pte.lo);
  } else {
    writel(ptep, pte.lo);
    writel(ptep + 4, pte.hi);
  }
}

/** set_pte_at: install a leaf entry for `addr` of `mm` (the caller flushes if needed). */
export function set_pte_at(_mm: mm_struct, _addr: number, ptep: number, pte: pte_t): void {
  write_entry(ptep, pte);
}

/** ptep_get_and_clear: clear a leaf entry and return what it held. */
export function ptep_get_and_clear(_mm: mm_struct, _addr: number, ptep: number): pte_t {
  const old = ptep_get(ptep);
  write_entry(ptep, { lo: 0, hi: 0 });
  return old;
}

/**
 * pgd_alloc: a zeroed PML4 for a new mm with the kernel half copied from init_mm's.
 * Returns its physical address, or -ENOMEM.
 */
export function pgd_alloc(mm: mm_struct): number {
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
  if (pfn < 0) return -ENOMEM;
  const pa = pfn * PAGE_SIZE;
  const kernel = init_mm_pgd();
  for (let i = KERNEL_PGD_BOUNDARY; i < PTRS_PER_TABLE; i++) {
    const e = ptep_get(entry_ptr(kernel, i));
    if (e.lo | e.hi) write_entry(entry_ptr(pa, i), e);
  }
  mm.pgtables_bytes += PAGE_SIZE;
  return pa;
}

/** pgd_free: release the PML4 (its user half must already be empty: free_pgd_range). */
export function pgd_free(mm: mm_struct): void {
  __free_pages(mm.pgd / PAGE_SIZE, 0);
  mm.pgtables_bytes -= PAGE_SIZE;
  mm.pgd = 0;
}

/**
 * The PT entry for `addr`, or 0 when a table on the way is missing (pte_offset_map
 * after pgd/p4d/pud/pmd_none checks). Never allocates.
 */
export function pte_offset_map(mm: mm_struct, addr: number): number {
  let table = mm.pgd;
  if (!table) return 0;
  for (let level = 0; level < 3; level++) {
    const ptep = entry_ptr(table, index_of(addr, level));
    const e = ptep_get(ptep);
    if (!(e.lo & _PAGE_PRESENT)) return 0;
    table = next_table(ptep, level, e);
    if (!table) return 0;
  }
  return entry_ptr(table, index_of(addr, 3));
}

/**
 * The PT entry for `addr`, allocating the PDPT, PD and PT on the way (__pud_alloc,
 * __pmd_alloc, __pte_alloc). Returns 0 when a table page cannot be allocated.
 */
export function pte_alloc_map(mm: mm_struct, addr: number): number {
  let table = mm.pgd;
  for (let level = 0; level < 3; level++) {
    const ptep = entry_ptr(table, index_of(addr, level));
    const e = ptep_get(ptep);
    if (e.lo & _PAGE_PRESENT) {
      const next = next_table(ptep, level, e);
      if (next) { table = next; continue; }
    }
    const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
    if (pfn < 0) return 0;
    mm.pgtables_bytes += PAGE_SIZE;
    table = pfn * PAGE_SIZE;
    write_entry(ptep, pa_pte(table, _PAGE_TABLE));
  }
  return entry_ptr(table, index_of(addr, 3));
}

/**
 * Call fn(addr, ptep) for every PT slot in [start, end) whose table exists, skipping
 * missing tables a whole table's span at a time (the pgd/p4d/pud/pmd_none_or_clear_bad
 * loops of Linux's page-range walkers).
 */
export function walk_pte_range(mm: mm_struct, start: number, end: number,
  fn: (addr: number, ptep: number) => void): void {
  const walk = (table: number, level: number, lo: number, hi: number): void => {
    const span = 2 ** LEVEL_SHIFT[level];
    let addr = lo;
    while (addr < hi) {
      const next = Math.min(hi, (Math.floor(addr / span) + 1) * span);
      const ptep = entry_ptr(table, index_of(addr, level));
      if (level === 3) {
        fn(addr, ptep);
      } else {
        const e = ptep_get(ptep);
        if (e.lo & _PAGE_PRESENT) {
          const t = next_table(ptep, level, e);
          if (t) walk(t, level + 1, addr, next);
        }
      }
      addr = next;
    }
  };
  if (start < end && mm.pgd) walk(mm.pgd, 0, start, end);
}

/**
 * free_pgd_range: free the page-table pages covering [addr, end) whose whole span lies
 * in [floor, ceiling), i.e. holds no VMA (free_pgtables' contract: the caller passes
 * the end of the VMA below and the start of the VMA above). Their leaves must already
 * be clear (zap). The freed pages are pushed on `freed` (pfns) for the caller to release
 * after the TLB flush, as mmu_gather does; the entries pointing at them are cleared now.
 */
export function free_pgd_range(mm: mm_struct, addr: number, end: number, floor: number, ceiling: number,
  freed: number[]): void {
  const free_table = (table: number, level: number): void => {
    if (level < 3) {
      for (let i = 0; i < PTRS_PER_TABLE; i++) {
        const ptep = entry_ptr(table, i);
        const e = ptep_get(ptep);
        if (!(e.lo & _PAGE_PRESENT)) continue;
        const t = next_table(ptep, level, e);
        if (t) free_table(t, level + 1);
      }
    } else {
      for (let i = 0; i < PTRS_PER_TABLE; i++) {
        const e = ptep_get(entry_ptr(table, i));
        if (e.lo | e.hi) {
          pr_err(`BUG: free_pgd_range: PT at 0x${table.toString(16)} still maps entry ${i}`);
          break;
        }
      }
    }
    freed.push(table / PAGE_SIZE);
    mm.pgtables_bytes -= PAGE_SIZE;
  };
  const walk = (table: number, level: number, lo: number, hi: number): void => {
    const span = 2 ** LEVEL_SHIFT[level];
    let at = Math.floor(lo / span) * span;
    for (; at < hi; at += span) {
      const ptep = entry_ptr(table, index_of(at, level));
      const e = ptep_get(ptep);
      if (!(e.lo & _PAGE_PRESENT)) continue;
      const t = next_table(ptep, level, e);
      if (!t) continue;
      if (at >= floor && at + span <= ceiling) {
        free_table(t, level + 1);
        write_entry(ptep, { lo: 0, hi: 0 });
      } else if (level < 2) {
        walk(t, level + 1, Math.max(lo, at), Math.min(hi, at + span));
      }
    }
  };
  if (addr < end && mm.pgd) walk(mm.pgd, 0, addr, end);
}
