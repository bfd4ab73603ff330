/**
 * x86-64's memory zones (Linux include/linux/mmzone.h, arch/x86/include/asm/dma.h): which
 * zone a frame belongs to is a function of its address alone.
 */
import { PAGE_SIZE } from '../../arch/x86/include/asm/pgtable_types.js';

/** enum zone_type on x86-64 (include/linux/mmzone.h), and their names (zone_names[]). */
export const ZONE_DMA = 0;
export const ZONE_DMA32 = 1;
export const ZONE_NORMAL = 2;
export const MAX_NR_ZONES = 3;
export const zone_names = ['DMA', 'DMA32', 'Normal'];
/** MAX_DMA_PFN (16 MiB) and MAX_DMA32_PFN (4 GiB), arch/x86/include/asm/dma.h. */
export const MAX_DMA_PFN = (16 * 2 ** 20) / PAGE_SIZE;
export const MAX_DMA32_PFN = 2 ** 32 / PAGE_SIZE;

/** page_zonenum(): the zone a frame belongs to, from its address. */
export function page_zonenum(pfn: number): number {
  return pfn < MAX_DMA_PFN ? ZONE_DMA : pfn < MAX_DMA32_PFN ? ZONE_DMA32 : ZONE_NORMAL;
}
