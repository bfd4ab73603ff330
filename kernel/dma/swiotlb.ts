/**
 * The software IO TLB (Linux kernel/dma/swiotlb.c): a pool of bounce buffers in
 * KeyID-0 memory below 4 GiB. A device that cannot DMA to a page directly - its DMA
 * mask does not reach the page, or does not reach the MKTME KeyID bits that would
 * select the page's key (force_dma_unencrypted) - DMAs to a slot of the pool instead,
 * and the CPU copies between the slot and the page through the page's own KeyID
 * alias: the device sees plaintext in KeyID-0 (TME-only) memory, the page keeps its
 * key. As in Linux, the pool is IO_TLB_SIZE (2 KiB) slots, contiguous runs per
 * mapping, the original address remembered per slot.
 *
 *   swiotlb_tbl_map_single: find slots, copy page -> slot for TO_DEVICE/BIDIRECTIONAL
 *   swiotlb_tbl_unmap_single: copy slot -> page for FROM_DEVICE/BIDIRECTIONAL, free
 */
import { __va } from '../../arch/x86/include/asm/page.js';
import { memcpy_fromio, memcpy_toio } from '../../arch/x86/include/asm/processor.js';
import { for_each_free_mem_range, memblock_end_of_DRAM, memblock_reserve } from '../../mm/memblock.js';
import { mktme_enabled } from '../../arch/x86/mm/mktme.js';
import { pr_info, pr_warn } from '../printk.js';

export const IO_TLB_SHIFT = 11;
export const IO_TLB_SIZE = 1 << IO_TLB_SHIFT;
const PAGE_SIZE_POOL_ALIGN = 4096;
/** 1 MiB pool (Linux's default is 64 MiB; this machine's disks and tests need far less). */
const POOL_BYTES = 1 << 20;
const NSLABS = POOL_BYTES / IO_TLB_SIZE;

interface slot_orig { phys: number; keyid: number; size: number; nslots: number }

let start = 0;
let used = new Uint8Array(0);
let orig = new Map<number, slot_orig>();
/** Bounces done (for tests and the bench). */
export const swiotlb_stats = { maps: 0, bytes: 0 };

/**
 * swiotlb_init (from mem_init, as x86's pci_iommu_alloc does): the pool from memblock,
 * below 4 GiB (memblock_alloc_low), before the buddy allocator takes the rest. As in
 * pci_swiotlb_detect, only when something may need it: memory above 4 GiB, or memory
 * encryption (here MKTME, whose force_dma_unencrypted devices bounce). A guest (no TME
 * in its CPUID, all RAM below 4 GiB) has none.
 */
export function swiotlb_init(): void {
  start = 0;
  used = new Uint8Array(0);
  orig = new Map();
  swiotlb_stats.maps = swiotlb_stats.bytes = 0;
  if (!mktme_enabled() && memblock_end_of_DRAM() <= 2 ** 32) return;
  // memblock_alloc_low: memblock allocates top-down by default, so the pool sits at the
  // top of node 0's memory below 4 GiB, out of the way of the kernel's early allocations.
  let pa = -1;
  for_each_free_mem_range((start, end, nid) => {
    if (nid !== 0) return; // the root complex's node (the devices sit on socket 0)
    const top = Math.min(end, 2 ** 32);
    const at = Math.floor((top - POOL_BYTES) / PAGE_SIZE_POOL_ALIGN) * PAGE_SIZE_POOL_ALIGN;
    if (at >= start && at > pa) pa = at;
  });
  if (pa >= 0) memblock_reserve(pa, POOL_BYTES);
  if (pa < 0 || pa + POOL_BYTES > 2 ** 32) {
    pr_warn('software IO TLB: Cannot allocate buffer');
    return;
  }
  start = pa;
  used = new Uint8Array(NSLABS);
  const end = start + NSLABS * IO_TLB_SIZE - 1;
  pr_info(`software IO TLB: mapped [mem 0x${start.toString(16).padStart(16, '0')}-0x${end.toString(16).padStart(16, '0')}] (${(NSLABS * IO_TLB_SIZE) >> 20}MB)`);
}

export function is_swiotlb_buffer(addr: number): boolean {
  return start !== 0 && addr >= start && addr < start + NSLABS * IO_TLB_SIZE;
}

function copy(from: number, to: number, size: number): void {
  const buf = new Uint8Array(size);
  memcpy_fromio(from, buf);
  memcpy_toio(to, buf);
}

/** A bounce slot for [phys, phys+size) of a page with `keyid`; its address or -1 (full). */
export function swiotlb_tbl_map_single(phys: number, keyid: number, size: number, dir: number): number {
  if (!start || size <= 0) return -1;
  const n = Math.ceil(size / IO_TLB_SIZE);
  for (let i = 0; i + n <= NSLABS; i++) {
    let free = true;
    for (let k = 0; k < n && free; k++) if (used[i + k]) { free = false; i += k; }
    if (!free) continue;
    used.fill(1, i, i + n);
    const tlb = start + i * IO_TLB_SIZE;
    orig.set(tlb, { phys, keyid, size, nslots: n });
    if (dir === 0 || dir === 1) copy(__va(phys, keyid), __va(tlb), size); // BIDIRECTIONAL, TO_DEVICE
    swiotlb_stats.maps++;
    swiotlb_stats.bytes += size;
    return tlb;
  }
  pr_warn(`swiotlb buffer is full (sz: ${size} bytes)`);
  return -1;
}

export function swiotlb_tbl_unmap_single(tlb: number, dir: number): void {
  const o = orig.get(tlb);
  if (!o) return;
  if (dir === 0 || dir === 2) copy(__va(tlb), __va(o.phys, o.keyid), o.size); // BIDIRECTIONAL, FROM_DEVICE
  const i = (tlb - start) / IO_TLB_SIZE;
  used.fill(0, i, i + o.nslots);
  orig.delete(tlb);
}
