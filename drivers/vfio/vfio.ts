/**
 * Device assignment, VFIO-style (Linux drivers/vfio/vfio_main.c, vfio_iommu_type1.c,
 * drivers/vfio/pci/): a VMM takes a PCI function away from its host driver, gives it an
 * IOMMU domain of its own, and maps its guest's RAM into that domain at IOVA = GPA
 * (VFIO_IOMMU_MAP_DMA, as QEMU does for every RAM region), so the guest's own driver,
 * which programs guest-physical addresses, has its DMA land in the guest's pages.
 *
 * MKTME: the pages are the VMM's anonymous guest RAM, encrypted with encrypt_mprotect
 * under the VM's key, the same host pages KVM puts into the EPT. Each IOMMU leaf gets
 * the page's KeyID (set_pte_mktme_keyid), so the IOMMU entry matches the EPT entry's
 * KeyID, the spec's rule for an assigned device: the device sees the VM's plaintext,
 * DRAM holds it under the VM's key. A GPA the VM does not own is simply not mapped:
 * a device assigned to VM2 that is pointed at VM1's memory gets a DMAR fault.
 *
 * Pages stay pinned while mapped (vfio_pin_pages), so they cannot be freed or change
 * KeyID under the device; unmapping clears the leaves and invalidates the IOTLB before
 * unpinning: the EvictPage order (unmap, invalidate, then flush when the page is freed).
 */
import { EBUSY, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM } from '../../kernel/errno.js';
import { pr_info } from '../../kernel/printk.js';
import { get_user_pages, unpin_user_pages } from '../../mm/gup.js';
import type { mm_struct } from '../../mm/vma.js';
import { virtblk_remove } from '../block/virtio_blk.js';
import { dev_info } from '../base/core.js';
import { DMA_PTE_READ, DMA_PTE_WRITE, domain_mapping, domain_unmapping, intel_iommu_active, intel_iommu_attach_device, type dmar_domain } from '../iommu/intel/iommu.js';
import { pci_clear_master, pci_set_master, type pci_dev } from '../pci/pci.js';
import { IS_ERR } from '../../kernel/err.js';

const PAGE = 4096;
export const VFIO_DMA_MAP_FLAG_READ = 1, VFIO_DMA_MAP_FLAG_WRITE = 2;

interface dma_mapping { iova: number; size: number; pfns: number[] }

/** A VFIO container with its one device (this board has one function per group). */
export interface vfio_container {
  pdev: pci_dev;
  domain: dmar_domain;
  mappings: dma_mapping[];
}

let containers: vfio_container[] = [];
export function vfio_init(): void { containers = []; }
export function vfio_containers(): readonly vfio_container[] { return containers; }

/**
 * Bind `pdev` to vfio-pci for a VM: the host driver lets go (its disk disappears), the
 * device gets a new, empty translated domain. -EBUSY if already assigned, -ENODEV
 * without an IOMMU (Linux refuses no-IOMMU VFIO unless forced).
 */
export function vfio_assign_device(pdev: pci_dev): vfio_container | number {
  if (!intel_iommu_active()) return -ENODEV;
  if (containers.some((c) => c.pdev === pdev)) return -EBUSY;
  if (pdev.driver?.name === 'virtio-pci') virtblk_remove(pdev);
  pdev.driver = null;
  pdev.dev.driver = 'vfio-pci';
  const domain = intel_iommu_attach_device(pdev, 'DMA');
  if (!domain) return -ENOMEM;
  pdev.dev.dma_ops = null; // the host does no DMA API work for it any more
  pci_set_master(pdev);
  const c: vfio_container = { pdev, domain, mappings: [] };
  containers.push(c);
  dev_info(pdev.dev, `assigned to a VM: IOMMU domain ${domain.did}`);
  return c;
}

/**
 * VFIO_IOMMU_MAP_DMA: map `size` bytes of the VMM's memory at `vaddr` (in `mm`) at
 * IOVA `iova` (the guest-physical address). 0 or -errno; nothing is mapped on failure.
 */
export function vfio_iommu_map_dma(c: vfio_container, mm: mm_struct, vaddr: number, iova: number, size: number,
  flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE): number {
  if (!(size > 0) || vaddr % PAGE || iova % PAGE || size % PAGE || !Number.isSafeInteger(iova + size) || iova + size > 2 ** 48) return -EINVAL;
  if (c.mappings.some((m) => iova < m.iova + m.size && m.iova < iova + size)) return -EEXIST;
  const pages = size / PAGE;
  const pfns = get_user_pages(mm, vaddr, pages, (flags & VFIO_DMA_MAP_FLAG_WRITE) !== 0);
  if (IS_ERR(pfns)) return -EFAULT;
  const prot = (flags & VFIO_DMA_MAP_FLAG_READ ? DMA_PTE_READ : 0) | (flags & VFIO_DMA_MAP_FLAG_WRITE ? DMA_PTE_WRITE : 0);
  for (let i = 0; i < pages; i++) {
    if (domain_mapping(c.domain, iova / PAGE + i, pfns[i], 1, prot) < 0) {
      domain_unmapping(c.domain, iova / PAGE, pages);
      unpin_user_pages(pfns);
      return -ENOMEM;
    }
  }
  c.mappings.push({ iova, size, pfns });
  return 0;
}

/** VFIO_IOMMU_UNMAP_DMA: unmap, invalidate the IOTLB, then unpin. Bytes unmapped. */
export function vfio_iommu_unmap_dma(c: vfio_container, iova: number, size: number): number {
  let done = 0;
  c.mappings = c.mappings.filter((m) => {
    if (m.iova < iova || m.iova + m.size > iova + size) return true;
    domain_unmapping(c.domain, m.iova / PAGE, m.size / PAGE); // clears + page-selective IOTLB flush
    unpin_user_pages(m.pfns);
    done += m.size;
    return false;
  });
  return done;
}

/** Release the device: every mapping undone, bus mastering off. */
export function vfio_release(c: vfio_container): void {
  for (const m of [...c.mappings]) vfio_iommu_unmap_dma(c, m.iova, m.size);
  pci_clear_master(c.pdev);
  containers = containers.filter((x) => x !== c);
  pr_info(`vfio-pci ${c.pdev.dev.name}: released`);
}
