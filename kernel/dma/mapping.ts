/**
 * The DMA mapping API (Linux kernel/dma/mapping.c, include/linux/dma-mapping.h):
 * drivers hand it pages, kernel virtual addresses or ask for coherent memory, and get
 * bus addresses for their device. A device in a translated IOMMU domain goes through
 * its dma_map_ops (drivers/iommu/intel: an IOVA whose leaf entry carries the page's
 * KeyID); otherwise dma-direct (the physical address with the KeyID, or a swiotlb
 * bounce). Either way the device reaches the page under the page's own key.
 *
 * The unmap calls return only once no device can reach the page any more (strict
 * IOTLB invalidation, or the bounce copied back), so the caller may free the page:
 * its cache lines are flushed by free_encrypted_page after that, the EvictPage order.
 */
import { __pa, page_address } from '../../arch/x86/include/asm/page.js';
import { page_keyid } from '../../arch/x86/include/asm/mktme.js';
import type { device } from '../../drivers/base/core.js';
import { GFP_KERNEL, __GFP_ZERO, __free_pages, alloc_pages } from '../../mm/page_alloc.js';
import { dma_direct_map_page, dma_direct_unmap_page, phys_to_dma } from './direct.js';

export const DMA_BIDIRECTIONAL = 0, DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2, DMA_NONE = 3;
/** DMA_MAPPING_ERROR (~0 in Linux). */
export const DMA_MAPPING_ERROR = -1;
const PAGE = 4096;

export function dma_mapping_error(_dev: device, addr: number): boolean { return addr === DMA_MAPPING_ERROR; }

/** dma_set_mask_and_coherent(dev, DMA_BIT_MASK(bits)): 0, or -EIO for a mask below 24 bits. */
export function dma_set_mask_and_coherent(dev: device, bits: number): number {
  if (!(bits >= 24 && bits <= 64)) return -5;
  dev.dma_mask_bits = bits;
  dev.coherent_dma_mask_bits = bits;
  return 0;
}

/** dma_map_page_attrs: `size` bytes at `offset` of page `pfn`. */
export function dma_map_page(dev: device, pfn: number, offset: number, size: number, dir: number): number {
  if (size <= 0 || dir === DMA_NONE) return DMA_MAPPING_ERROR;
  const phys = pfn * PAGE + offset;
  const keyid = page_keyid(pfn);
  return dev.dma_ops ? dev.dma_ops.map_page(dev, phys, keyid, size, dir) : dma_direct_map_page(dev, phys, keyid, size, dir);
}

export function dma_unmap_page(dev: device, addr: number, size: number, dir: number): void {
  if (dev.dma_ops) dev.dma_ops.unmap_page(dev, addr, size, dir);
  else dma_direct_unmap_page(dev, addr, size, dir);
}

/** dma_map_single: a kernel virtual address in any KeyID's direct mapping. */
export function dma_map_single(dev: device, va: number, size: number, dir: number): number {
  const pa = __pa(va);
  if (pa < 0) return DMA_MAPPING_ERROR;
  return dma_map_page(dev, Math.floor(pa / PAGE), pa % PAGE, size, dir);
}

export function dma_unmap_single(dev: device, addr: number, size: number, dir: number): void {
  dma_unmap_page(dev, addr, size, dir);
}

export interface dma_coherent { cpu_addr: number; dma_handle: number; pfn: number; order: number }

/**
 * dma_alloc_coherent: zeroed KeyID-0 pages both CPU and device use (rings,
 * descriptors), mapped for the device bidirectionally. null when out of memory.
 */
export function dma_alloc_coherent(dev: device, size: number): dma_coherent | null {
  let order = 0;
  while ((PAGE << order) < size) order++;
  const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, order, 0, 0);
  if (pfn < 0) return null;
  const len = PAGE << order;
  let dma: number;
  if (dev.dma_ops) dma = dev.dma_ops.map_page(dev, pfn * PAGE, 0, len, DMA_BIDIRECTIONAL);
  else dma = phys_to_dma(pfn * PAGE, 0) + len <= 2 ** dev.coherent_dma_mask_bits ? pfn * PAGE : DMA_MAPPING_ERROR;
  if (dma === DMA_MAPPING_ERROR) { __free_pages(pfn, order); return null; }
  return { cpu_addr: page_address(pfn), dma_handle: dma, pfn, order };
}

export function dma_free_coherent(dev: device, c: dma_coherent): void {
  if (dev.dma_ops) dev.dma_ops.unmap_page(dev, c.dma_handle, PAGE << c.order, DMA_BIDIRECTIONAL);
  __free_pages(c.pfn, c.order);
}
