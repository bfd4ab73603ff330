/**
 * dma-direct (Linux kernel/dma/direct.c, include/linux/dma-direct.h) with the MKTME
 * series' common memory-encryption code ([PATCHv2 49/59, 50/59], Jacob Pan,
 * arch/x86/mm/mem_encrypt_common.c): without an IOMMU translation, a DMA address is
 * the page's physical address with the page's KeyID in its upper bits
 * (__mem_encrypt_dma_set), so the device's request goes through the engine under the
 * page's key, and the device sees plaintext.
 *
 * force_dma_unencrypted(dev): a device whose DMA mask cannot express the KeyID bits
 * ("(dma_dev_mask & mktme_keyid_mask()) != mktme_keyid_mask()") cannot name the key;
 * its DMA to an encrypted page bounces through swiotlb's KeyID-0 buffers. The same
 * happens to any page beyond the mask (dma_capable).
 */
import { mktme_enabled, mktme_keyid_mask } from '../../arch/x86/mm/mktme.js';
import { dev_info, type device } from '../../drivers/base/core.js';
import { is_swiotlb_buffer, swiotlb_tbl_map_single, swiotlb_tbl_unmap_single } from './swiotlb.js';

/** __mem_encrypt_dma_set: the bus address of physical `pa` of a page with `keyid`. */
export function phys_to_dma(pa: number, keyid: number): number {
  const { shift } = mktme_keyid_mask();
  return keyid && shift ? pa + keyid * 2 ** shift : pa;
}

/** __mem_encrypt_dma_clear / dma_to_phys: the KeyID bits stripped. */
export function dma_to_phys(dma: number): number {
  const { shift } = mktme_keyid_mask();
  return shift ? dma % 2 ** shift : dma;
}

export function force_dma_unencrypted(dev: device): boolean {
  if (!mktme_enabled()) return false;
  const { shift, bits } = mktme_keyid_mask();
  return dev.dma_mask_bits < shift + bits;
}

/** dma_capable: the whole range below the device's mask. */
function dma_capable(dev: device, dma: number, size: number): boolean {
  return dma + size <= 2 ** Math.min(dev.dma_mask_bits, 64);
}

export function dma_direct_map_page(dev: device, phys: number, keyid: number, size: number, dir: number): number {
  const unencrypted = keyid !== 0 && force_dma_unencrypted(dev);
  const dma = phys_to_dma(phys, keyid);
  if (!unencrypted && dma_capable(dev, dma, size)) return dma;
  if (unencrypted && !dev.dma_bounce_noted) {
    dev.dma_bounce_noted = true;
    dev_info(dev, `DMA mask of ${dev.dma_mask_bits} bits cannot reach the MKTME KeyID bits: encrypted pages bounce through swiotlb (KeyID 0)`);
  }
  const tlb = swiotlb_tbl_map_single(phys, keyid, size, dir);
  return tlb < 0 ? -1 : tlb;
}

export function dma_direct_unmap_page(_dev: device, dma: number, _size: number, dir: number): void {
  if (is_swiotlb_buffer(dma)) swiotlb_tbl_unmap_single(dma, dir);
}
