/**
 * ioremap (Linux arch/x86/mm/ioremap.c): kernel virtual addresses for device
 * registers. A physical range in the PCI hole is mapped, 4 KiB pages, into the
 * vmalloc/ioremap area with _PAGE_PCD | _PAGE_PWT (uncached, Linux's
 * _PAGE_CACHE_MODE_UC) and no KeyID: MMIO is not memory, the MKTME engine never sees
 * it (the AMD and MKTME series alike leave encryption bits off MMIO mappings).
 *
 * The area's PML4 entry is allocated at boot, before any process exists (Linux's
 * preallocate_vmalloc_pages), so every pgd_alloc copies it and a later ioremap is
 * seen by every address space without a sync. State is per boot (ioremap_init).
 */
import { __va } from '../include/asm/page.js';
import {
  _KERNPG_TABLE, _PAGE_PCD, _PAGE_PRESENT, _PAGE_PWT, PAGE_KERNEL, PAGE_SIZE, pa_pte, pte_addr, type pte_t,
} from '../include/asm/pgtable_types.js';
import { __flush_tlb_one, on_each_cpu, readl, writel } from '../include/asm/processor.js';
import { GFP_KERNEL, __GFP_ZERO, alloc_pages } from '../../../mm/page_alloc.js';
import { init_mm_pgd } from './init.js';

/** Linux's VMALLOC_START 0xffffc90000000000, as a 48-bit linear address. */
export const IOREMAP_START = 0xc90000000000;
const IOREMAP_END = IOREMAP_START + 2 ** 30;
const SHIFT = [39, 30, 21, 12];
const PAGE_KERNEL_IO = { lo: (PAGE_KERNEL.lo | _PAGE_PCD | _PAGE_PWT) >>> 0, hi: PAGE_KERNEL.hi };

let next = IOREMAP_START;
let areas = new Map<number, { phys: number; size: number }>();

function slot(table: number, va: number, level: number): number {
  return __va(table + (Math.floor(va / 2 ** SHIFT[level]) % 512) * 8);
}
function get(p: number): pte_t { return { lo: readl(p), hi: readl(p + 4) }; }
function set(p: number, e: pte_t): void { writel(p + 4, e.hi); writel(p, e.lo); }

/** The PT entry for `va`, allocating tables down to it (-1 when out of memory). */
function pte_alloc_kernel(va: number): number {
  let table = init_mm_pgd();
  for (let level = 0; level < 3; level++) {
    const p = slot(table, va, level);
    const e = get(p);
    if (e.lo & _PAGE_PRESENT) { table = pte_addr(e); continue; }
    const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0);
    if (pfn < 0) return -1;
    set(p, pa_pte(pfn * PAGE_SIZE, _KERNPG_TABLE));
    table = pfn * PAGE_SIZE;
  }
  return slot(table, va, 3);
}

/** Boot: forget earlier mappings, preallocate the area's upper tables. */
export function ioremap_init(): void {
  next = IOREMAP_START;
  areas = new Map();
  pte_alloc_kernel(IOREMAP_START);
}

/** Map [phys, phys+size) uncached; returns the virtual address or 0 (Linux: NULL). */
export function ioremap(phys: number, size: number): number {
  const off = phys % PAGE_SIZE;
  const base = phys - off;
  const pages = Math.ceil((off + size) / PAGE_SIZE);
  if (!(size > 0) || next + pages * PAGE_SIZE > IOREMAP_END) return 0;
  const va = next;
  let p = -1;
  for (let i = 0; i < pages; i++) {
    const at = va + i * PAGE_SIZE;
    // One walk per page table: the next PTE is 8 bytes on, until the table ends.
    p = p >= 0 && Math.floor(at / 2 ** 21) === Math.floor((at - PAGE_SIZE) / 2 ** 21) ? p + 8 : pte_alloc_kernel(at);
    if (p < 0) return 0;
    set(p, pa_pte(base + i * PAGE_SIZE, PAGE_KERNEL_IO));
  }
  next += (pages + 1) * PAGE_SIZE; // a guard page between areas, as vmalloc leaves
  areas.set(va, { phys: base, size: pages * PAGE_SIZE });
  return va + off;
}

/** Unmap an ioremap()ed range and flush every CPU's TLB entries for it. */
export function iounmap(addr: number): void {
  const va = addr - (addr % PAGE_SIZE);
  const a = areas.get(va);
  if (!a) return;
  for (let o = 0; o < a.size; o += PAGE_SIZE) set(pte_alloc_kernel(va + o), { lo: 0, hi: 0 });
  on_each_cpu(() => { for (let o = 0; o < a.size; o += PAGE_SIZE) __flush_tlb_one(va + o); });
  areas.delete(va);
}
