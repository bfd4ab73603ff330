/**
 * The kernel's page tables (Linux arch/x86/mm/init.c init_mem_mapping, init_64.c
 * phys_*_init, with the MKTME series' per-KeyID direct mappings, [PATCHv2 18/59] and
 * sync_direct_mapping()).
 *
 * - One direct mapping per KeyID 0..nr_keyids, KeyID k at PAGE_OFFSET + k * size, each
 *   covering every e820 range (RAM, firmware-reserved, persistent memory) with the
 *   largest pages that fit: 1 GiB, then 2 MiB, then 4 KiB.
 * - Leaf entries are PAGE_KERNEL (present, RW, global, NX, not user) with the KeyID in
 *   their address bits (pgprot_keyid). Table pointers carry KeyID 0: page tables are
 *   kernel data read through KeyID 0, as in sync_direct_mapping(), which adds
 *   `keyid << mktme_keyid_shift()` to the copied leaf values only. So programming a key
 *   for KeyID k never garbles the tables that map KeyID k.
 * - size is a power of two >= 1 TiB covering all of physical memory. If the KeyIDs'
 *   mappings do not fit the quarter of the 48-bit space Linux sets aside for direct
 *   mappings, MKTME is disabled with Linux's messages (calculate_direct_mapping_size).
 * - The tables are built in host buffers, then each table page (memblock-allocated) is
 *   written whole with paging still off (linear = physical), then CR3 and CR0.PG|WP.
 */
import { X86_CR0_PG, X86_CR0_WP, E820_TYPE_PMEM, E820_TYPE_RAM, E820_TYPE_RESERVED } from '../hw/isa.js';
import { DIRECT_MAPPING_MIN, __va, set_direct_mapping } from '../include/asm/page.js';
import {
  _KERNPG_TABLE, _PAGE_PRESENT, _PAGE_PSE, PAGE_KERNEL, PAGE_SIZE, pa_pte, pgprot_keyid, pte_addr,
  type pgprot_t, type pte_t, LEVEL_SHIFT,
} from '../include/asm/pgtable_types.js';
import { memcpy_toio, read_cr0, readl, write_cr0, write_cr3 } from '../include/asm/processor.js';
import { e820_table, memblock_phys_alloc } from '../../../mm/memblock.js';
import { mktme_disable, mktme_nr_keyids } from './mktme.js';
import { pr_debug, pr_err, pr_info_tree } from '../../../kernel/printk.js';

export { PAGE_OFFSET, __va, __pa, page_address, direct_mapping_size } from '../include/asm/page.js';

const GiB = 2 ** 30;
const MiB2 = 2 ** 21;
/** calculate_direct_mapping_size(): a quarter of the 4-level VA space (2^48 / 4). */
const DIRECT_MAP_VA_SPACE = 2 ** 46;
const ENTRIES = 512;

/** Page-table levels as Linux numbers them (enum pg_level). */
export const PG_LEVEL_4K = 1;
export const PG_LEVEL_2M = 2;
export const PG_LEVEL_1G = 3;

let pgd_pa = 0;
/** KeyID 0's direct-map leaves by level (arch_report_meminfo's direct_pages_count). */
let direct_pages_count = [0, 0, 0, 0];
let nr_table_pages = 0;

/** A table under construction: 512 entries as lo/hi halves, host side. */
interface Table { pa: number; e: Uint32Array }

class Builder {
  readonly tables = new Map<number, Table>();
  readonly root: Table;
  constructor() { this.root = this.alloc(); }

  alloc(): Table {
    const pa = memblock_phys_alloc(PAGE_SIZE, PAGE_SIZE);
    if (pa < 0) throw new Error('init_mem_mapping: out of memory for page tables');
    const t = { pa, e: new Uint32Array(ENTRIES * 2) };
    this.tables.set(pa, t);
    return t;
  }

  /** The next-level table under entry `i` of `t`, created if absent. */
  child(t: Table, i: number): Table {
    const lo = t.e[2 * i];
    if (lo & _PAGE_PRESENT) return this.tables.get(pte_addr({ lo, hi: t.e[2 * i + 1] }))!;
    const c = this.alloc();
    this.set(t, i, pa_pte(c.pa, _KERNPG_TABLE));
    return c;
  }

  set(t: Table, i: number, pte: pte_t): void { t.e[2 * i] = pte.lo; t.e[2 * i + 1] = pte.hi; }

  /** Map [va, va+len) to [pa, pa+len) with `prot` (and PSE for large leaves). */
  map(va: number, pa: number, len: number, prot: pgprot_t, huge: pgprot_t, count: boolean): void {
    const end = pa + len;
    while (pa < end) {
      const left = end - pa;
      const idx = (lvl: number): number => Math.floor(va / 2 ** LEVEL_SHIFT[lvl]) % ENTRIES;
      const pdpt = this.child(this.root, idx(0));
      let step: number;
      if (pa % GiB === 0 && left >= GiB) {
        this.set(pdpt, idx(1), pa_pte(pa, huge));
        step = GiB;
        if (count) direct_pages_count[PG_LEVEL_1G]++;
      } else {
        const pd = this.child(pdpt, idx(1));
        if (pa % MiB2 === 0 && left >= MiB2) {
          this.set(pd, idx(2), pa_pte(pa, huge));
          step = MiB2;
          if (count) direct_pages_count[PG_LEVEL_2M]++;
        } else {
          this.set(this.child(pd, idx(2)), idx(3), pa_pte(pa, prot));
          step = PAGE_SIZE;
          if (count) direct_pages_count[PG_LEVEL_4K]++;
        }
      }
      pa += step;
      va += step;
    }
  }

  /** Write every table page whole, through linear = physical (paging is off). */
  commit(): void {
    for (const t of this.tables.values()) {
      memcpy_toio(t.pa, new Uint8Array(t.e.buffer, t.e.byteOffset, PAGE_SIZE));
    }
  }
}

/** The physical ranges the direct mapping covers: e820 RAM, reserved and PMEM, merged. */
export function direct_map_ranges(): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const e of e820_table()) {
    if (e.type !== E820_TYPE_RAM && e.type !== E820_TYPE_RESERVED && e.type !== E820_TYPE_PMEM) continue;
    const start = Math.floor(e.addr / PAGE_SIZE) * PAGE_SIZE;
    const end = Math.ceil((e.addr + e.size) / PAGE_SIZE) * PAGE_SIZE;
    const last = out[out.length - 1];
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else out.push({ start, end });
  }
  return out;
}

/**
 * Build the kernel page tables (KeyID 0 and every MKTME KeyID), load CR3 and turn on
 * paging with write protection on the boot CPU. Called once, with paging off.
 */
export function init_mem_mapping(): void {
  const ranges = direct_map_ranges();
  const top = ranges.length ? ranges[ranges.length - 1].end : 0;
  let size = DIRECT_MAPPING_MIN;
  while (size < top) size *= 2;
  let nr = mktme_nr_keyids();
  if (nr > 0 && size > DIRECT_MAP_VA_SPACE / (nr + 1)) {
    pr_err('x86/mktme: Disabled. Not enough virtual address space');
    pr_err('x86/mktme: Consider switching to 5-level paging');
    mktme_disable();
    nr = 0;
  }
  set_direct_mapping(size, nr + 1);
  direct_pages_count = [0, 0, 0, 0];

  const b = new Builder();
  for (let keyid = 0; keyid <= nr; keyid++) {
    const prot = pgprot_keyid(PAGE_KERNEL, keyid);
    const huge = { lo: prot.lo | _PAGE_PSE, hi: prot.hi };
    for (const r of ranges) b.map(__va(r.start, keyid), r.start, r.end - r.start, prot, huge, keyid === 0);
  }
  b.commit();
  pgd_pa = b.root.pa;
  nr_table_pages = b.tables.size;
  for (const r of ranges) {
    // init_memory_mapping(): pr_debug("init_memory_mapping: [mem %#010lx-%#010lx]\n")
    pr_debug(`init_memory_mapping: [mem ${hex010(r.start)}-${hex010(r.end - 1)}]`);
  }
  if (nr) pr_info_tree(`x86/mm: direct mappings for KeyIDs 0-${nr}, ${size / 2 ** 40} TiB apart`);
  pr_info_tree(`x86/mm: ${nr_table_pages} page-table pages for the direct mappings`);
  load_kernel_pgtable();
}

/** The kernel's %#010lx: 0x, then at least 8 digits ("0x" counts in the width). */
function hex010(n: number): string { return '0x' + n.toString(16).padStart(8, '0'); }

/** Load the kernel page tables on the current CPU (boot CPU and each AP). */
export function load_kernel_pgtable(): void {
  write_cr3(pgd_pa);
  write_cr0((read_cr0() | X86_CR0_WP | X86_CR0_PG) >>> 0);
}

/** Physical address of the kernel PML4 (init_mm.pgd); its upper half is the kernel's. */
export function init_mm_pgd(): number { return pgd_pa; }

/** KeyID 0's direct mapping in pages of each level (for /proc/meminfo DirectMap*). */
export function direct_map_counts(): { k4: number; m2: number; g1: number } {
  return { k4: direct_pages_count[PG_LEVEL_4K], m2: direct_pages_count[PG_LEVEL_2M], g1: direct_pages_count[PG_LEVEL_1G] };
}

/**
 * lookup_address: walk the kernel tables for `va` (reading them through KeyID 0's
 * direct map, so paging must be on) and return the leaf entry and its level, or null
 * if `va` is not mapped.
 */
export function lookup_address(va: number): { pte: pte_t; level: number } | null {
  let table = pgd_pa;
  for (let lvl = 0; lvl < 4; lvl++) {
    const at = __va(table) + (Math.floor(va / 2 ** LEVEL_SHIFT[lvl]) % ENTRIES) * 8;
    const pte = { lo: readl(at), hi: readl(at + 4) };
    if (!(pte.lo & _PAGE_PRESENT)) return null;
    if (lvl === 3 || (lvl > 0 && pte.lo & _PAGE_PSE)) return { pte, level: 4 - lvl };
    table = pte_addr(pte);
  }
  return null;
}
