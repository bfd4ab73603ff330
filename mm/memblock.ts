/**
 * memblock: the boot-time physical memory manager (Linux mm/memblock.c), used from the
 * firmware's e820 map until mem_init hands the free memory to the buddy allocator.
 *
 * - memblock.memory: usable RAM (e820 type RAM), each range tagged with its NUMA node
 *   from the SRAT-like affinity table (Linux: numa_add_memblk / memblock_set_node).
 * - memblock.reserved: what must never be handed out: the first MiB (Linux
 *   "x86/setup: always reserve the first 1M of RAM"), the kernel image, early
 *   allocations (page tables).
 * - `mem=` removes RAM above the given physical address from e820 before anything is
 *   added (Linux arch/x86/kernel/e820.c parse_memopt: e820__range_remove(mem_size, ...)).
 * - Allocation is bottom-up from the end of the kernel image (x86 does this for its
 *   early page tables, "memory_map_bottom_up"), then from the bottom of RAM.
 * Regions are a handful of plain objects (never per page). memblock_setup() resets
 * everything for a new boot.
 */
import {
  E820_TYPE_PMEM, E820_TYPE_RAM, E820_TYPE_RESERVED, X86_CR0_PG, type E820Entry, type MemAffinity,
} from '../arch/x86/hw/isa.js';
import { __va } from '../arch/x86/include/asm/page.js';
import { memset_io, read_cr0 } from '../arch/x86/include/asm/processor.js';
import { PAGE_SIZE } from '../arch/x86/include/asm/pgtable_types.js';
import { pr_err, pr_info, pr_warn } from '../kernel/printk.js';
import { EINVAL, ENOMEM } from '../kernel/errno.js';

const MiB = 1024 * 1024;

/** The kernel image as the "bootloader" placed it (Linux's _text.._end symbols). */
export const KERNEL_TEXT = 16 * MiB;             // _text
export const KERNEL_ETEXT = 18 * MiB;            // _etext
export const KERNEL_RODATA = 18 * MiB;           // __start_rodata
export const KERNEL_RODATA_END = 19 * MiB;       // __end_rodata
export const KERNEL_DATA = 19 * MiB;             // _sdata
export const KERNEL_EDATA = 19 * MiB + MiB / 2;  // _edata
export const KERNEL_BSS = KERNEL_EDATA;          // __bss_start
export const KERNEL_END = 20 * MiB;              // __bss_stop / _end
/** The first MiB: BIOS data, real-mode trampoline, option ROMs. */
export const LOW_RESERVE = 1 * MiB;

export interface MemblockRegion { base: number; size: number; nid: number }

let memory: MemblockRegion[] = [];
let reserved: MemblockRegion[] = [];
let e820: E820Entry[] = [];
let frozen = false;

/** A copy of the e820 table after `mem=` (what /proc/iomem and the direct map use). */
export function e820_table(): readonly E820Entry[] { return e820; }
export function memblock_memory(): readonly MemblockRegion[] { return memory; }
export function memblock_reserved(): readonly MemblockRegion[] { return reserved; }

function hex16(n: number): string { return n.toString(16).padStart(16, '0'); }

/** e820__print_table's line format and e820_print_type's names (the BIOS map itself is
 *  printed by arch/x86/kernel/e820.ts; this prints the map after mem=). */
function print_e820(who: string, table: readonly E820Entry[]): void {
  const names: Record<number, string> = {
    [E820_TYPE_RAM]: 'usable', [E820_TYPE_RESERVED]: 'reserved', [E820_TYPE_PMEM]: `persistent (type ${E820_TYPE_PMEM})`,
  };
  for (const e of table) {
    pr_info(`${who}: [mem 0x${hex16(e.addr)}-0x${hex16(e.addr + e.size - 1)}] ${names[e.type] ?? `type ${e.type}`}`);
  }
}

/** Insert [base, base+size) into `list` (kept sorted), merging touching ranges of one node. */
function add_range(list: MemblockRegion[], base: number, size: number, nid: number): void {
  if (size <= 0) return;
  let end = base + size;
  let i = 0;
  while (i < list.length && list[i].base + list[i].size < base) i++;
  // Merge every overlapping or touching range of the same node.
  let j = i;
  while (j < list.length && list[j].base <= end && list[j].nid === nid) {
    base = Math.min(base, list[j].base);
    end = Math.max(end, list[j].base + list[j].size);
    j++;
  }
  list.splice(i, j - i, { base, size: end - base, nid });
  list.sort((a, b) => a.base - b.base);
}

/** memblock_add_node: RAM [base, base+size) on node `nid`. */
export function memblock_add(base: number, size: number, nid = 0): void { add_range(memory, base, size, nid); }

/** memblock_reserve: [base, base+size) may never be allocated or freed to the buddy. */
export function memblock_reserve(base: number, size: number): void {
  const b = Math.floor(base / PAGE_SIZE) * PAGE_SIZE;
  const e = Math.ceil((base + size) / PAGE_SIZE) * PAGE_SIZE;
  add_range(reserved, b, e - b, 0);
}

/**
 * Boot: the firmware's map into memblock. RAM above `mem_limit` (a physical address,
 * page-aligned down) is dropped from e820 first; a limit inside the kernel image is
 * refused (the kernel is already there).
 */
export function memblock_setup(e820_in: E820Entry[], affinity: MemAffinity[], mem_limit: number | null): void {
  memory = [];
  reserved = [];
  frozen = false;
  e820 = e820_in.map((e) => ({ ...e })).sort((a, b) => a.addr - b.addr);

  if (mem_limit !== null) {
    let limit = Math.floor(mem_limit / PAGE_SIZE) * PAGE_SIZE;
    if (limit < KERNEL_END) {
      pr_err(`mem=${limit} is below the end of the kernel image; using ${KERNEL_END}`);
      limit = KERNEL_END;
    }
    // e820__range_remove(limit, ULLONG_MAX - limit, E820_TYPE_RAM): only RAM is trimmed.
    const out: E820Entry[] = [];
    for (const e of e820) {
      if (e.type !== E820_TYPE_RAM || e.addr + e.size <= limit) out.push(e);
      else if (e.addr < limit) out.push({ addr: e.addr, size: limit - e.addr, type: e.type });
    }
    e820 = out;
    // e820__finish_early_params(): the map after mem=.
    pr_info('user-defined physical RAM map:');
    print_e820('user', e820);
  }

  for (const e of e820) {
    if (e.type !== E820_TYPE_RAM) continue;
    // Split the RAM range by the affinity table; uncovered parts go to node 0.
    let at = e.addr;
    const end = e.addr + e.size;
    const parts = affinity.filter((a) => a.base < end && a.base + a.size > at).sort((a, b) => a.base - b.base);
    for (const a of parts) {
      const s = Math.max(at, a.base);
      const t = Math.min(end, a.base + a.size);
      if (s > at) memblock_add(at, s - at, 0);
      memblock_add(s, t - s, a.node);
      at = t;
    }
    if (at < end) memblock_add(at, end - at, 0);
  }
  for (const r of memory) {
    pr_info(`NUMA: Node ${r.nid} [mem 0x${hex16(r.base)}-0x${hex16(r.base + r.size - 1)}]`);
  }

  memblock_reserve(0, LOW_RESERVE);
  memblock_reserve(KERNEL_TEXT, KERNEL_END - KERNEL_TEXT);
}

/** Total RAM in memblock.memory, bytes (Linux memblock_phys_mem_size). */
export function memblock_phys_mem_size(): number { return memory.reduce((n, r) => n + r.size, 0); }

/** End of the last RAM range (Linux memblock_end_of_DRAM); max_pfn is this / 4096. */
export function memblock_end_of_DRAM(): number {
  return memory.length ? memory[memory.length - 1].base + memory[memory.length - 1].size : 0;
}

/**
 * Free ranges: memory minus reserved, clipped to whole pages, in address order
 * (Linux for_each_free_mem_range). `fn(start, end, nid)` gets byte addresses.
 */
export function for_each_free_mem_range(fn: (start: number, end: number, nid: number) => void): void {
  for (const m of memory) {
    let at = Math.ceil(m.base / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.floor((m.base + m.size) / PAGE_SIZE) * PAGE_SIZE;
    for (const r of reserved) {
      if (r.base + r.size <= at || r.base >= end) continue;
      if (r.base > at) fn(at, r.base, m.nid);
      at = Math.max(at, r.base + r.size);
    }
    if (at < end) fn(at, end, m.nid);
  }
}

/** The lowest free, `align`-aligned range of `size` bytes at or above `from`, or -1. */
function find_free(size: number, align: number, from: number): number {
  let found = -1;
  for_each_free_mem_range((start, end) => {
    if (found >= 0) return;
    const s = Math.ceil(Math.max(start, from) / align) * align;
    if (s + size <= end) found = s;
  });
  return found;
}

/**
 * memblock_phys_alloc: reserve `size` bytes aligned to `align` and return their
 * physical address, or -ENOMEM when nothing fits (-EINVAL for a bad size or alignment;
 * Linux returns 0). The memory is NOT zeroed.
 * Not available after mem_init (memblock has been handed to the buddy allocator).
 */
export function memblock_phys_alloc(size: number, align = PAGE_SIZE): number {
  if (frozen) {
    pr_warn('memblock_phys_alloc: called after mem_init; use alloc_pages');
    return -ENOMEM;
  }
  if (!(size > 0) || !(align > 0)) return -EINVAL;
  let pa = find_free(size, align, KERNEL_END);
  if (pa < 0) pa = find_free(size, align, 0);
  if (pa < 0) {
    pr_err(`memblock: failed to allocate ${size} bytes align=0x${align.toString(16)}`);
    return -ENOMEM;
  }
  memblock_reserve(pa, size);
  return pa;
}

/**
 * memblock_alloc: like memblock_phys_alloc, but the memory is zeroed (through the
 * direct map once paging is on, physically before). Returns the physical address.
 */
export function memblock_alloc(size: number, align = PAGE_SIZE): number {
  const pa = memblock_phys_alloc(size, align);
  if (pa < 0) return pa;
  memset_io(read_cr0() >= X86_CR0_PG ? __va(pa) : pa, 0, size);
  return pa;
}

/** mem_init: memblock's free memory now belongs to the buddy allocator. */
export function memblock_freeze(): void { frozen = true; }
