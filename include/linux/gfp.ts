/**
 * Allocation flags (Linux include/linux/gfp_types.h, gfp.h) and gfp_zone(), the highest
 * zone an allocation with those flags may use.
 */
import { ZONE_DMA, ZONE_DMA32, ZONE_NORMAL } from './mmzone.js';

/** gfp_t bits (a subset of Linux's include/linux/gfp_types.h; values are this tree's). */
export const __GFP_DMA = 0x01;
export const __GFP_DMA32 = 0x04;
export const __GFP_IO = 0x40;
export const __GFP_FS = 0x80;
export const __GFP_ZERO = 0x100;
export const __GFP_RECLAIM = 0xc00;
export const __GFP_NOWARN = 0x2000;
export const __GFP_HARDWALL = 0x100000;
/** Allocate from the requested node only, no fallback. */
export const __GFP_THISNODE = 0x200000;
export const GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS;
export const GFP_USER = GFP_KERNEL | __GFP_HARDWALL;
export const GFP_DMA = __GFP_DMA;
export const GFP_DMA32 = __GFP_DMA32;

/** gfp_zone(): the highest zone an allocation may use. */
export function gfp_zone(gfp: number): number {
  return gfp & __GFP_DMA ? ZONE_DMA : gfp & __GFP_DMA32 ? ZONE_DMA32 : ZONE_NORMAL;
}
