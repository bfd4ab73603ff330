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
import { readl, writel } from '../../arch/x86/include/asm/processor.js';
import { iounmap } from '../../arch/x86/mm/ioremap.js';
import { dmar_fault_poll } from '../iommu/intel/dmar.js';
import {
  PCI_COMMAND, PCI_COMMAND_MASTER, pci_clear_master, pci_iomap, pci_read_config_dword, pci_read_config_word,
  pci_set_master, pci_write_config_word, type pci_dev, type pci_driver,
} from '../pci/pci.js';
import { IS_ERR } from '../../kernel/err.js';
import { VFIO_DMA_MAP_FLAG_READ, VFIO_DMA_MAP_FLAG_WRITE } from '../../include/uapi/linux/vfio.js';


const PAGE = 4096;

interface dma_mapping { iova: number; size: number; pfns: number[] }

/** A VFIO container with its one device (this board has one function per group). */
export interface vfio_container {
  pdev: pci_dev;
  domain: dmar_domain;
  mappings: dma_mapping[];
  /** The host's uncached mappings of the BARs (vfio_pci_core's barmap), made on first use. */
  barmap: number[];
}

/** vfio-pci, bound by hand (driver_override), never by ID match. */
const vfio_pci_driver: pci_driver = { name: 'vfio-pci', id_table: [], probe: () => 0 };

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
  pdev.driver = vfio_pci_driver;
  pdev.dev.driver = 'vfio-pci';
  const domain = intel_iommu_attach_device(pdev, 'DMA');
  if (!domain) return -ENOMEM;
  pdev.dev.dma_ops = null; // the host does no DMA API work for it any more
  pci_set_master(pdev);
  const c: vfio_container = { pdev, domain, mappings: [], barmap: [] };
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
  if (!(flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))) return -EINVAL;
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

/**
 * The device's config region (vfio_pci_config.c, reduced): a dword of the real
 * configuration space. Only offsets inside the 256-byte header; -1 (all ones) beyond.
 */
export function vfio_pci_config_read(c: vfio_container, off: number): number {
  if (!Number.isInteger(off) || off < 0 || off > 252 || off % 4) return 0xffffffff;
  return pci_read_config_dword(c.pdev, off) >>> 0;
}

/**
 * A config write from the VMM: only the command register's Bus Master bit reaches
 * the device (vfio-pci virtualizes the rest; Memory Space stays on so BAR accesses
 * can be forwarded). Other offsets are dropped here: the VMM emulates them.
 */
export function vfio_pci_config_write_command(c: vfio_container, master: boolean): void {
  const cmd = pci_read_config_word(c.pdev, PCI_COMMAND);
  pci_write_config_word(c.pdev, PCI_COMMAND, master ? cmd | PCI_COMMAND_MASTER : cmd & ~PCI_COMMAND_MASTER);
}

function bar_va(c: vfio_container, bar: number, off: number): number {
  const r = c.pdev.resource[bar];
  if (!r || !Number.isInteger(off) || off < 0 || off % 4 || off + 4 > r.end - r.start + 1) return 0;
  if (!c.barmap[bar]) c.barmap[bar] = pci_iomap(c.pdev, bar);
  return c.barmap[bar] ? c.barmap[bar] + off : 0;
}

/**
 * A BAR region's read (pread on the device fd at VFIO_PCI_BAR0_REGION_INDEX's
 * offset, vfio_pci_bar_rw): one aligned 32-bit register. -1 for an offset outside
 * the BAR.
 */
export function vfio_pci_bar_read(c: vfio_container, bar: number, off: number): number {
  const va = bar_va(c, bar, off);
  return va ? readl(va) >>> 0 : 0xffffffff;
}

/**
 * A BAR region's write (pwrite, vfio_pci_bar_rw). The doorbell may start DMA on the
 * spot; any fault it took is reported at once in the host's log (the host has no
 * interrupt controller to deliver dmar_fault's interrupt). 0, or -EINVAL outside the BAR.
 */
export function vfio_pci_bar_write(c: vfio_container, bar: number, off: number, value: number): number {
  const va = bar_va(c, bar, off);
  if (!va) return -EINVAL;
  writel(va, value >>> 0);
  dmar_fault_poll();
  return 0;
}

/** Release the device: every mapping undone, bus mastering off. */
export function vfio_release(c: vfio_container): void {
  for (const m of [...c.mappings]) vfio_iommu_unmap_dma(c, m.iova, m.size);
  pci_clear_master(c.pdev);
  for (const va of c.barmap) if (va) iounmap(va);
  c.barmap = [];
  c.pdev.driver = null; // unbound from vfio-pci
  c.pdev.dev.driver = null;
  containers = containers.filter((x) => x !== c);
  pr_info(`vfio-pci ${c.pdev.dev.name}: released`);
}
