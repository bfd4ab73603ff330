/**
 * IOVA allocation (Linux drivers/iommu/iova.c, reduced): page-granular ranges handed
 * out top-down below a limit (the device's DMA mask), size-aligned like
 * alloc_iova(..., size_aligned = true), freed ranges kept per size for reuse (the
 * role of the per-CPU rcache). Page 0 is never handed out (start_pfn = 1), so IOVA
 * 0 is never a valid mapping.
 */
export interface iova_domain {
  start_pfn: number;
  /** Next pfn below which a fresh range is carved. */
  cached_pfn: number;
  /** limit_pfn + 1 the domain was made for. */
  top_pfn: number;
  free: Map<number, number[]>;
  /** Allocated ranges: first pfn -> size in pages. */
  allocated: Map<number, number>;
}

export function init_iova_domain(limit_bits: number): iova_domain {
  const top = 2 ** (Math.min(limit_bits, 48) - 12);
  return { start_pfn: 1, cached_pfn: top, top_pfn: top, free: new Map(), allocated: new Map() };
}

function roundup_pow_of_two(n: number): number { let p = 1; while (p < n) p *= 2; return p; }

/** A range of `pages` pages: its first pfn, or 0 when the space is exhausted. */
export function alloc_iova(d: iova_domain, pages: number): number {
  const size = roundup_pow_of_two(pages);
  const reuse = d.free.get(size);
  let pfn = reuse?.pop() ?? 0;
  if (!pfn) {
    const next = Math.floor((d.cached_pfn - size) / size) * size;
    if (next < d.start_pfn) return 0;
    d.cached_pfn = next;
    pfn = next;
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
