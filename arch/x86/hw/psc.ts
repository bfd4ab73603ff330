/**
 * A paging-structure cache (SDM Vol. 3A §4.10.3): the PDE cache, which lets a TLB miss
 * skip the PML4E, PDPTE and PDE loads and read only the PTE. An entry is made when a walk
 * reads a present PDE that references a page table (PS = 0); it holds that table's
 * address, as the PDE gave it, and the rights the PML4E, PDPTE and PDE combine to
 * (R/W and U/S must be 1 in all of them, NX in none: §4.10.3.1). It is tagged by the
 * table root the walk began at (CR3's PML4 address) and the linear address's bits 47:21.
 *
 * Only walks make entries and nothing updates them, so an entry can go stale when
 * software changes or frees a paging structure: the processor may use it until it is
 * invalidated (§4.10.4). MOV to CR3, MOV to CR0, INVLPG (which "invalidates all entries
 * in all paging-structure caches", §4.10.4.1), INVEPT and a VM entry without VPID all go
 * through the TLB (tlb.ts), which drops every entry here. This is why Linux frees page
 * tables only after the TLB flush that follows their unmapping (mm/mmu_gather.c,
 * tlb_remove_table), as mm/mmap.ts does.
 *
 * Organisation is implementation-specific; this one is direct-mapped on the region's low
 * bits, `PDE_CACHE_ENTRIES` entries (32, a common size for Intel's PDE cache).
 */
const PDE_CACHE_ENTRIES = 32;

const REGION = 2 ** 21;

export class PdeCache {
  private readonly root = new Float64Array(PDE_CACHE_ENTRIES).fill(-1);
  private readonly region = new Float64Array(PDE_CACHE_ENTRIES);
  private readonly table = new Float64Array(PDE_CACHE_ENTRIES);
  private readonly rights = new Uint8Array(PDE_CACHE_ENTRIES);

  /** The slot caching the PDE for linear address `va` under table root `root`, or -1. */
  lookup(root: number, va: number): number {
    const r = Math.floor(va / REGION);
    const s = (r >>> 0) & (PDE_CACHE_ENTRIES - 1);
    return this.root[s] === root && this.region[s] === r ? s : -1;
  }

  /** The page table's address in slot `s`. */
  tableOf(s: number): number { return this.table[s]; }
  /** The combined rights in slot `s`, as a TLB entry's flags (TLB_USER | TLB_WRITE | TLB_NX). */
  rightsOf(s: number): number { return this.rights[s]; }

  insert(root: number, va: number, table: number, rights: number): void {
    const r = Math.floor(va / REGION);
    const s = (r >>> 0) & (PDE_CACHE_ENTRIES - 1);
    this.root[s] = root; this.region[s] = r; this.table[s] = table; this.rights[s] = rights;
  }

  /** Drop every entry. */
  clear(): void { this.root.fill(-1); }
}
