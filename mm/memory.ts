/**
 * User memory: demand paging, unmapping and copying at fork (Linux mm/memory.c,
 * mm/mmu_gather.c, and the shmem fault path of mm/shmem.c).
 *
 *  - handle_mm_fault: a fault the VMA allows gets a page. Private anonymous memory gets
 *    a fresh page from alloc_pages(GFP_USER | __GFP_ZERO, 0, vma_keyid(vma)), zeroed by
 *    the allocator through its new KeyID alias, mapped with mk_pte(pfn, vm_page_prot),
 *    so the KeyID in vm_page_prot lands in the PTE. Shared anonymous memory finds (or
 *    adds) the page in its shmem object. There is no shared zero page: a read fault
 *    allocates a page too (Linux would map the KeyID-0 zero page, [PATCHv2 15/59]).
 *  - zap_page_range / unmap_vmas: clear PTEs, then flush the TLB of every CPU that may
 *    hold the mm, and only then drop the pages (put_page; a page with a KeyID goes
 *    through free_encrypted_page). An mmu_gather collects pages and freed page-table
 *    pages so nothing is reused while a stale translation could still reach it.
 *  - copy_page_range: fork copies private pages eagerly into new pages of the same
 *    KeyID, byte for byte through the kernel's KeyID-N direct-map aliases (this tree has
 *    no copy-on-write); shared pages are mapped again with one more reference.
 *
 * A "page entry" is a present PTE or a PROT_NONE one (_PAGE_PROTNONE): both hold a page.
 */
import {
  _PAGE_DIRTY, _PAGE_PRESENT, PAGE_SIZE, pfn_pte, pgprot_keyid, pte_keyid, pte_pfn,
  type pte_t,
} from '../arch/x86/include/asm/pgtable_types.js';
import { __flush_tlb_one } from '../arch/x86/include/asm/processor.js';
import { copy_page } from '../arch/x86/include/asm/page_64.js';
import { page_address } from '../arch/x86/mm/init.js';
import {
  ptep_get, ptep_get_and_clear, pte_alloc_map, pte_offset_map, set_pte_at, walk_pte_range,
} from '../arch/x86/mm/pgtable.js';
import { flush_tlb_mm_range } from '../arch/x86/mm/tlb.js';
import {
  GFP_USER, __GFP_ZERO, __free_pages, alloc_pages, get_page, max_pfn, page_count, put_page,
} from './page_alloc.js';
import { mktme_nr_keyids } from '../arch/x86/mm/mktme.js';
import { TAINT_BAD_PAGE, add_taint } from '../kernel/panic.js';
import { KERN_ALERT, printk } from '../kernel/printk.js';
import {
  _PAGE_PROTNONE, update_hiwater_rss, vma_keyid, type mm_struct, type vm_area_struct,
} from './vma.js';
import { EINVAL, ENOMEM } from '../kernel/errno.js';
import { shmem_get_page } from './shmem.js';
import { mmu_notifier_invalidate_range_start } from './mmu_notifier.js';

/* vm_fault_t bits (include/linux/mm_types.h). */
export const VM_FAULT_OOM = 0x000001;
export const VM_FAULT_SIGBUS = 0x000002;
export const VM_FAULT_SIGSEGV = 0x000040;

/* fault flags (include/linux/mm.h). */
export const FAULT_FLAG_WRITE = 0x01;
export const FAULT_FLAG_USER = 0x40;
export const FAULT_FLAG_INSTRUCTION = 0x100;

/** The entry holds a page: present, or PROT_NONE with its frame kept. */
export function pte_has_page(pte: pte_t): boolean {
  return (pte.lo & (_PAGE_PRESENT | _PAGE_PROTNONE)) !== 0;
}

/** The same entry pointing at another frame (flags and KeyID kept). */
function pte_set_pfn(pte: pte_t, pfn: number): pte_t {
  const flags = { lo: pte.lo & 0xfff, hi: pte.hi & ~0xfffff };
  return pfn_pte(pfn, pgprot_keyid(flags, pte_keyid(pte)));
}

function account(vma: vm_area_struct, delta: number): void {
  const mm = vma.vm_mm;
  if (vma.vm_file) mm.rss_shmem += delta;
  else mm.rss_anon += delta;
  if (delta > 0) update_hiwater_rss(mm);
}

/**
 * vm_normal_page's sanity half: does a page entry point at a page this mm may hold (a
 * RAM frame in use, a KeyID this machine has)? A corrupted entry does not, and is
 * reported as print_bad_pte does ("BUG: Bad page map in process ...", taint B) instead
 * of being followed.
 */
function pte_page_ok(vma: vm_area_struct, addr: number, pte: pte_t): boolean {
  const pfn = pte_pfn(pte);
  if (pfn < max_pfn && pte_keyid(pte) <= mktme_nr_keyids() && page_count(pfn) > 0) return true;
  const val = ((BigInt(pte.hi >>> 0) << 32n) | BigInt(pte.lo >>> 0)).toString(16).padStart(16, '0');
  // (Linux names the process too; the mm here does not know its task)
  printk(KERN_ALERT, `BUG: Bad page map  pte:${val}`);
  printk(KERN_ALERT, `addr:${(BigInt(addr)).toString(16).padStart(16, '0')} vm_flags:${vma.vm_flags.toString(16).padStart(8, '0')}`);
  add_taint(TAINT_BAD_PAGE);
  return false;
}

// --- faults ------------------------------------------------------------------------------

/** do_anonymous_page: a zeroed page with the VMA's KeyID. */
function do_anonymous_page(vma: vm_area_struct, addr: number, ptep: number, flags: number): number {
  const pfn = alloc_pages(GFP_USER | __GFP_ZERO, 0, vma_keyid(vma));
  if (pfn < 0) return VM_FAULT_OOM;
  let entry = pfn_pte(pfn, vma.vm_page_prot); // mk_pte: the KeyID comes with vm_page_prot
  if (flags & FAULT_FLAG_WRITE) entry = { lo: (entry.lo | _PAGE_DIRTY) >>> 0, hi: entry.hi };
  set_pte_at(vma.vm_mm, addr, ptep, entry);
  account(vma, 1);
  return 0;
}

/** shmem_fault + finish_fault: the object's page at this offset, allocated on first use. */
function do_shared_fault(vma: vm_area_struct, addr: number, ptep: number, flags: number): number {
  const file = vma.vm_file!;
  const pgoff = vma.vm_pgoff + (addr - vma.vm_start) / PAGE_SIZE;
  const pfn = shmem_get_page(file, pgoff); // under the object's KeyID, which is the VMA's
  if (pfn === -EINVAL) return VM_FAULT_SIGBUS; // beyond i_size
  if (pfn < 0) return VM_FAULT_OOM;
  get_page(pfn); // the mapping's reference
  let entry = pfn_pte(pfn, vma.vm_page_prot);
  if (flags & FAULT_FLAG_WRITE) entry = { lo: (entry.lo | _PAGE_DIRTY) >>> 0, hi: entry.hi };
  set_pte_at(vma.vm_mm, addr, ptep, entry);
  account(vma, 1);
  return 0;
}

/**
 * handle_mm_fault: resolve a fault at `address` that access_error() already allowed.
 * Returns 0 or VM_FAULT_* bits.
 */
export function handle_mm_fault(vma: vm_area_struct, address: number, flags: number): number {
  const addr = address - (address % PAGE_SIZE);
  const ptep = pte_alloc_map(vma.vm_mm, addr);
  if (!ptep) return VM_FAULT_OOM;
  const pte = ptep_get(ptep);
  if (!(pte.lo | pte.hi)) {
    return vma.vm_file ? do_shared_fault(vma, addr, ptep, flags) : do_anonymous_page(vma, addr, ptep, flags);
  }
  if (!(pte.lo & _PAGE_PRESENT)) return VM_FAULT_SIGSEGV; // PROT_NONE: access_error's job
  // Present and allowed: a stale translation on this CPU (flush_tlb_fix_spurious_fault).
  __flush_tlb_one(addr);
  return 0;
}

/** follow_pte: the entry mapping `addr` in `mm`, or null if no table or no entry. */
export function follow_pte(mm: mm_struct, addr: number): pte_t | null {
  const ptep = pte_offset_map(mm, addr - (addr % PAGE_SIZE));
  if (!ptep) return null;
  const pte = ptep_get(ptep);
  return pte.lo | pte.hi ? pte : null;
}

// --- unmapping ---------------------------------------------------------------------------

/** mmu_gather: what to flush, and what to free after the flush. */
export interface mmu_gather {
  mm: mm_struct;
  start: number;
  end: number;
  /** Pages whose mapping reference goes after the flush. */
  pages: number[];
  /** Page-table pages (pfns) to free after the flush. */
  tables: number[];
}

export function tlb_gather_mmu(mm: mm_struct): mmu_gather {
  return { mm, start: Infinity, end: 0, pages: [], tables: [] };
}

/** tlb_finish_mmu: flush every CPU that may hold the mm, then release pages and tables. */
export function tlb_finish_mmu(tlb: mmu_gather): void {
  if (tlb.start < tlb.end || tlb.tables.length) {
    const start = tlb.start < tlb.end ? tlb.start : 0;
    flush_tlb_mm_range(tlb.mm, start, Math.max(tlb.end, start), tlb.tables.length > 0);
  }
  for (const pfn of tlb.pages) put_page(pfn);
  for (const pfn of tlb.tables) __free_pages(pfn, 0);
  tlb.pages = [];
  tlb.tables = [];
}

/** unmap_page_range: clear the VMA's entries in [start, end) into the gather. */
export function unmap_page_range(tlb: mmu_gather, vma: vm_area_struct, start: number, end: number): void {
  const mm = vma.vm_mm;
  mmu_notifier_invalidate_range_start(mm, start, end); // secondary MMUs (KVM's EPT) first
  walk_pte_range(mm, start, end, (addr, ptep) => {
    const pte = ptep_get(ptep);
    if (!(pte.lo | pte.hi)) return;
    const old = ptep_get_and_clear(mm, addr, ptep);
    if (!pte_has_page(old)) return;
    if (!pte_page_ok(vma, addr, old)) return; // cleared, not freed: it was never ours
    tlb.pages.push(pte_pfn(old));
    tlb.start = Math.min(tlb.start, addr);
    tlb.end = Math.max(tlb.end, addr + PAGE_SIZE);
    account(vma, -1);
  });
}

/**
 * zap_page_range: unmap the pages of [start, start+size) in `vma` and free them
 * (after the TLB shootdown). The VMA stays; later faults map fresh pages.
 */
export function zap_page_range(vma: vm_area_struct, start: number, size: number): void {
  const tlb = tlb_gather_mmu(vma.vm_mm);
  unmap_page_range(tlb, vma, Math.max(start, vma.vm_start), Math.min(start + size, vma.vm_end));
  tlb_finish_mmu(tlb);
}

// --- fork ----------------------------------------------------------------------------------

/**
 * copy_page_range: give `dst` (the child's copy of `src`) its own entries. Private pages
 * are copied into new pages of the VMA's KeyID (copy_user_highpage through the direct
 * map: page_address() is each page's own KeyID alias); shared pages are mapped again.
 * 0 or -ENOMEM (what was copied stays accounted in dst for the caller's teardown).
 */
export function copy_page_range(dst: vm_area_struct, src: vm_area_struct): number {
  let err = 0;
  const buf = new Uint8Array(PAGE_SIZE);
  walk_pte_range(src.vm_mm, src.vm_start, src.vm_end, (addr, sptep) => {
    if (err) return;
    const pte = ptep_get(sptep);
    if (!pte_has_page(pte)) return;
    if (!pte_page_ok(src, addr, pte)) return; // not copied: the child gets no such entry
    const dptep = pte_alloc_map(dst.vm_mm, addr);
    if (!dptep) { err = -ENOMEM; return; }
    const pfn = pte_pfn(pte);
    if (src.vm_file) {
      get_page(pfn);
      set_pte_at(dst.vm_mm, addr, dptep, pte);
    } else {
      const npfn = alloc_pages(GFP_USER, 0, vma_keyid(src));
      if (npfn < 0) { err = -ENOMEM; return; }
      try {
        copy_page(page_address(npfn), page_address(pfn), buf);
      } catch (e) {
        __free_pages(npfn, 0); // an oops in the copy: the new page is not left behind
        throw e;
      }
      set_pte_at(dst.vm_mm, addr, dptep, pte_set_pfn(pte, npfn));
    }
    account(dst, 1);
  });
  buf.fill(0);
  return err;
}
