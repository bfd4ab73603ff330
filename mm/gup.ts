/**
 * get_user_pages (Linux mm/gup.c, reduced): pin the pages behind a user range so a
 * device can DMA into them, faulting them in as the task's own access would
 * (handle_mm_fault with FAULT_FLAG_WRITE for a device that writes memory). Each page
 * gets a reference (FOLL_PIN's role) that unpin_user_pages drops: a page under DMA
 * cannot be freed, and so cannot change KeyID, until the I/O is over.
 *
 * The caller runs in the task's context (run_as). Returns the pfns, or -EFAULT when
 * part of the range is not mapped with the needed access (the errno O_DIRECT I/O
 * gives for a bad buffer).
 */
import { EFAULT } from '../kernel/errno.js';
import { follow_pte, handle_mm_fault, FAULT_FLAG_WRITE } from './memory.js';
import { get_page, put_page } from './page_alloc.js';
import { find_vma, VM_READ, VM_WRITE, type mm_struct } from './vma.js';
import { PAGE_SIZE, pte_pfn, pte_present, type pte_t } from '../arch/x86/include/asm/pgtable_types.js';

export function get_user_pages(mm: mm_struct, start: number, nr_pages: number, write: boolean): number[] | number {
  const pfns: number[] = [];
  for (let i = 0; i < nr_pages; i++) {
    const addr = start + i * PAGE_SIZE;
    const vma = find_vma(mm, addr);
    if (!vma || vma.vm_start > addr || !(vma.vm_flags & (write ? VM_WRITE : VM_READ))) {
      unpin_user_pages(pfns);
      return -EFAULT;
    }
    let pte: pte_t | null = follow_pte(mm, addr);
    if (!pte || !pte_present(pte)) {
      if (handle_mm_fault(vma, addr, write ? FAULT_FLAG_WRITE : 0)) { unpin_user_pages(pfns); return -EFAULT; }
      pte = follow_pte(mm, addr);
    }
    if (!pte || !pte_present(pte)) { unpin_user_pages(pfns); return -EFAULT; }
    const pfn = pte_pfn(pte);
    get_page(pfn);
    pfns.push(pfn);
  }
  return pfns;
}

export function unpin_user_pages(pfns: number[]): void {
  for (const pfn of pfns) put_page(pfn);
}
