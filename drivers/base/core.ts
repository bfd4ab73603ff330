/**
 * struct device and dev_printk (Linux include/linux/device.h, drivers/base/core.c),
 * reduced to what the PCI, IOMMU and DMA layers share: a name, the bus and driver
 * names dev_printk prefixes, the DMA masks, the IOMMU group and DMA ops.
 */
import { pr_err, pr_info, pr_warn } from '../../kernel/printk.js';

/** What kernel/dma dispatches to: the IOMMU's ops, or null for dma-direct. */
export interface dma_map_ops {
  map_page(dev: device, phys: number, keyid: number, size: number, dir: number): number;
  unmap_page(dev: device, dma: number, size: number, dir: number): void;
}

export interface device {
  /** dev_name(): "0000:00:03.0" for a PCI device. */
  name: string;
  /** The bus's name ("pci") and the bound driver's, for dev_printk. */
  bus: string;
  driver: string | null;
  /** dma_mask / coherent_dma_mask as address bits (64 means all). */
  dma_mask_bits: number;
  coherent_dma_mask_bits: number;
  /** Set by the IOMMU core when the device is in a group. */
  iommu_group: number | null;
  dma_ops: dma_map_ops | null;
  /** dma-direct saw that this device cannot reach the KeyID bits (printed once). */
  dma_bounce_noted: boolean;
}

export function device_init(name: string, bus: string): device {
  return {
    name, bus, driver: null, dma_mask_bits: 32, coherent_dma_mask_bits: 32, iommu_group: null,
    dma_ops: null, dma_bounce_noted: false,
  };
}

function prefix(dev: device): string { return `${dev.driver ?? dev.bus} ${dev.name}: `; }
export function dev_info(dev: device, s: string): void { pr_info(prefix(dev) + s); }
export function dev_warn(dev: device, s: string): void { pr_warn(prefix(dev) + s); }
export function dev_err(dev: device, s: string): void { pr_err(prefix(dev) + s); }
