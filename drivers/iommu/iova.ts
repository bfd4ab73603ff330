/**
 * IOVA allocation (Linux drivers/iommu/iova.c, reduced): page-granular ranges handed
 * out top-down below a limit, size-aligned like alloc_iova(..., size_aligned = true),
 * freed ranges kept per size for reuse (the role of the per-CPU rcache). As
 * iommu_dma_alloc_iova does for PCI devices, space below 4 GiB is tried first (its own
 * cursor, like iovad->cached32_node) and the rest of the device's mask only when that is
 * exhausted. Page 0 is never handed out (start_pfn = 1), so IOVA 0 is never valid.
 */
export interface iova_domain {
  start_pfn: number;
  /** Next pfn below which a fresh range is carved: below 4 GiB, and above it. */
  cached32_pfn: number;
  cached_pfn: number;
  /** limit_pfn + 1 the domain was made for. */
  top_pfn: number;
  free: Map<number, number[]>;
  /** Allocated ranges: first pfn -> size in pages. */
  allocated: Map<number, number>;
}

export function init_iova_domain(limit_bits: number): iova_domain {
  const top = 2 ** (Math.min(limit_bits, 48) - 12);
  return { start_pfn: 1, cached32_pfn: Math.min(top, DMA_32BIT_PFN), cached_pfn: top, top_pfn: top, free: new Map(), allocated: new Map() };
}

const DMA_32BIT_PFN = 2 ** 20;

function roundup_pow_of_two(n: number): number { let p = 1; while (p < n) p *= 2; return p; }

/** A range of `pages` pages: its first pfn, or 0 when the space is exhausted. */
export function alloc_iova(d: iova_domain, pages: number): number {
  const size = roundup_pow_of_two(pages);
  const reuse = d.free.get(size);
  let pfn = reuse?.pop() ?? 0;
  if (!pfn) {
    const low = Math.floor((d.cached32_pfn - size) / size) * size;
    const high = Math.floor((d.cached_pfn - size) / size) * size;
    if (low >= d.start_pfn) { d.cached32_pfn = low; pfn = low; }
    else if (high >= DMA_32BIT_PFN) { d.cached_pfn = high; pfn = high; }
    else return 0;
  }
  d.allocated.set(pfn, size);
  return pfn;
}

/** free_iova: give the range starting at `pfn` back. False if it was not allocated. */
export function free_iova(d: iova_domain, pfn: number): boolean {
  const size = d.allocated.get(pfn);
  if (size === undefined) return false;
  d.allocated.delete(pfn);
  let list = d.free.get(size);
  if (!list) { list = []; d.free.set(size, list); }
  list.push(pfn);
  return true;
}

export function iova_size(d: iova_domain, pfn: number): number { return d.allocated.get(pfn) ?? 0; }
