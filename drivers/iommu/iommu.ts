/**
 * The IOMMU core (Linux drivers/iommu/iommu.c, arch/x86/kernel/pci-dma.c): the
 * default domain type, one IOMMU group per device (nothing on this board shares a
 * requester ID or lacks ACS isolation), /sys/kernel/iommu_groups, and the boot
 * options that choose translated or pass-through default domains.
 *
 *   iommu=pt | iommu=nopt      early_param (pci-dma.c iommu_setup)
 *   iommu.passthrough=0|1      early_param (iommu.c iommu_set_def_domain_type)
 *
 * Unmapping is always strict here (the IOTLB is invalidated before dma_unmap returns;
 * Linux's "strict mode"), which the EvictPage order needs.
 */
import { proc_create } from '../../fs/proc/generic.js';
import { kstrtobool } from '../../lib/kstrtox.js';
import { early_param } from '../../kernel/params.js';
import { pr_info } from '../../kernel/printk.js';
import { pci_devices, type pci_dev } from '../pci/pci.js';
import { intel_iommu_active, intel_iommu_attach_device, intel_iommu_init } from './intel/iommu.js';

let passthrough = false;
let passthrough_cmdline = false;

early_param('iommu', (val) => {
  for (const opt of (val ?? '').split(',')) {
    if (opt === 'pt') { passthrough = true; passthrough_cmdline = true; }
    else if (opt === 'nopt') { passthrough = false; passthrough_cmdline = true; }
  }
  return 0;
}, () => { passthrough = false; passthrough_cmdline = false; });

early_param('iommu.passthrough', (val) => {
  const res = { val: false };
  if (val === null || kstrtobool(val, res)) return -22;
  passthrough = res.val;
  passthrough_cmdline = true;
  return 0;
}, () => { /* reset by 'iommu' */ });

export interface iommu_group { id: number; devices: pci_dev[]; type: 'DMA' | 'identity' }
let groups: iommu_group[] = [];

export function iommu_groups(): readonly iommu_group[] { return groups; }

/** iommu_subsys_init + bus_iommu_probe: default domain type, then a group per device. */
export function iommu_init(): number {
  groups = [];
  const ret = intel_iommu_init();
  if (ret < 0 || !intel_iommu_active()) return 0;
  const type = passthrough ? 'identity' : 'DMA';
  pr_info(`iommu: Default domain type: ${passthrough ? 'Passthrough' : 'Translated'}${passthrough_cmdline ? ' (set via kernel command line)' : ''}`);
  pr_info('iommu: DMA domain TLB invalidation policy: strict mode');
  for (const pdev of pci_devices()) {
    const g: iommu_group = { id: groups.length, devices: [pdev], type };
    if (!intel_iommu_attach_device(pdev, type)) continue;
    groups.push(g);
    pdev.dev.iommu_group = g.id;
    pr_info(`pci ${pdev.dev.name}: Adding to iommu group ${g.id}`);
    const dir = `/sys/kernel/iommu_groups/${g.id}`;
    proc_create(`${dir}/type`, () => `${g.type}\n`);
    proc_create(`${dir}/devices/${pdev.dev.name}`, () => `../../../../devices/pci0000:00/${pdev.dev.name}\n`);
    proc_create(`/sys/bus/pci/devices/${pdev.dev.name}/iommu_group`, () => `../../../../kernel/iommu_groups/${g.id}\n`);
  }
  return 0;
}
