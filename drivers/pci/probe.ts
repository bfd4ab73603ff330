/**
 * PCI enumeration at boot (Linux arch/x86/pci/mmconfig-shared.c pci_mmcfg_early_init,
 * drivers/pci/probe.c pci_scan_root_bus / pci_scan_slot / pci_read_bases): map the
 * ECAM window of segment 0 from the MCFG table, scan bus 0's 32 slots (functions 1-7
 * only behind a multi-function header), size every BAR with the all-ones protocol
 * (memory decoding off meanwhile, as __pci_read_base does), and publish each device
 * under /sys/bus/pci/devices. Linux's messages, in its order.
 */
import { proc_create } from '../../fs/proc/generic.js';
import { pr_info } from '../../kernel/printk.js';
import { acpi_mcfg } from '../acpi/tables.js';
import {
  IORESOURCE_MEM, PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_MEMORY, PCI_HEADER_TYPE, pci_alloc_dev,
  pci_bus_read_config_dword, pci_core_init, pci_device_add, pci_mmcfg_map, pci_read_config_byte,
  pci_read_config_dword, pci_read_config_word, pci_write_config_dword, pci_write_config_word, type pci_dev,
} from './pci.js';
import { insert_resource } from '../../kernel/resource.js';

/** The host bridge's memory window: [3 GiB, 0xfec00000), the hole's MMIO part. */
const PCI_WINDOW_START = 0xc0000000;
const PCI_WINDOW_END = 0xfebfffff;

function hex(n: number, w = 0): string { return n.toString(16).padStart(w, '0'); }

/** Size and record the six BARs (32-bit memory BARs; I/O and 64-bit ones are not on this board). */
function pci_read_bases(d: pci_dev): void {
  const cmd = pci_read_config_word(d, PCI_COMMAND);
  if (cmd & PCI_COMMAND_MEMORY) pci_write_config_word(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MEMORY);
  for (let i = 0; i < 6; i++) {
    const reg = PCI_BASE_ADDRESS_0 + 4 * i;
    const orig = pci_read_config_dword(d, reg);
    pci_write_config_dword(d, reg, 0xffffffff);
    const sz = pci_read_config_dword(d, reg);
    pci_write_config_dword(d, reg, orig);
    if (sz === 0 || sz === 0xffffffff || (sz & 1)) continue;
    const size = (~(sz & 0xfffffff0) >>> 0) + 1;
    const start = (orig & 0xfffffff0) >>> 0;
    d.resource[i] = { start, end: start + size - 1, flags: IORESOURCE_MEM };
    insert_resource(d.dev.name, start, start + size - 1);
    pr_info(`pci ${d.dev.name}: BAR ${i} [mem 0x${hex(start, 8)}-0x${hex(start + size - 1, 8)}]`);
  }
  if (cmd & PCI_COMMAND_MEMORY) pci_write_config_word(d, PCI_COMMAND, cmd);
}

function pci_sysfs_add(d: pci_dev): void {
  const dir = `/sys/bus/pci/devices/${d.dev.name}`;
  proc_create(`${dir}/vendor`, () => `0x${hex(d.vendor, 4)}\n`);
  proc_create(`${dir}/device`, () => `0x${hex(d.device, 4)}\n`);
  proc_create(`${dir}/class`, () => `0x${hex(d.class, 6)}\n`);
  proc_create(`${dir}/subsystem_vendor`, () => `0x${hex(d.subsystem_vendor, 4)}\n`);
  proc_create(`${dir}/subsystem_device`, () => `0x${hex(d.subsystem_device, 4)}\n`);
  proc_create(`${dir}/resource`, () => Array.from({ length: 6 }, (_, i) => {
    const r = d.resource[i];
    return r ? `0x${hex(r.start, 16)} 0x${hex(r.end, 16)} 0x${hex(r.flags, 16)}\n` : `0x${'0'.repeat(16)} 0x${'0'.repeat(16)} 0x${'0'.repeat(16)}\n`;
  }).join(''));
}

function pci_scan_device(bus: number, devfn: number): pci_dev | null {
  const id = pci_bus_read_config_dword(bus, devfn, 0);
  if (id === 0xffffffff || (id & 0xffff) === 0xffff || id === 0) return null;
  const d = pci_alloc_dev(bus, devfn);
  const type = pci_read_config_byte(d, PCI_HEADER_TYPE) & 0x7f;
  pr_info(`pci ${d.dev.name}: [${hex(d.vendor, 4)}:${hex(d.device, 4)}] type ${hex(type, 2)} class 0x${hex(d.class, 6)} conventional PCI endpoint`);
  pci_read_bases(d);
  pci_device_add(d);
  pci_sysfs_add(d);
  return d;
}

/** subsys_initcall(pci_subsys_init): find ECAM, scan bus 0. */
export function pci_subsys_init(): number {
  pci_core_init();
  const m = acpi_mcfg().find((a) => a.segment === 0);
  if (!m) return 0; // no PCI at all (a guest's firmware view without devices): nothing to scan
  const end = m.base + ((m.endBus - m.startBus + 1) << 20) - 1;
  pr_info(`PCI: ECAM [mem 0x${hex(m.base, 8)}-0x${hex(end, 8)}] (base 0x${hex(m.base)}) for domain 0000 [bus ${hex(m.startBus, 2)}-${hex(m.endBus, 2)}]`);
  if (pci_mmcfg_map(m.base, 1) < 0) return -12; // only bus 0 is populated on this board
  // The host bridge's window is the board's MMIO hole below 4 GiB, up to the local
  // APIC/IOAPIC/DMAR area at 0xfec00000, as a real board's _CRS describes it.
  insert_resource('PCI Bus 0000:00', PCI_WINDOW_START, PCI_WINDOW_END);
  insert_resource(`PCI ECAM 0000 [bus ${hex(m.startBus, 2)}-${hex(m.endBus, 2)}]`, m.base, end);
  pr_info('PCI host bridge to bus 0000:00');
  pr_info(`pci_bus 0000:00: root bus resource [bus ${hex(m.startBus, 2)}-${hex(m.endBus, 2)}]`);
  for (let slot = 0; slot < 32; slot++) {
    const d = pci_scan_device(0, slot << 3);
    if (!d) continue;
    if (pci_read_config_byte(d, PCI_HEADER_TYPE) & 0x80) {
      for (let fn = 1; fn < 8; fn++) pci_scan_device(0, (slot << 3) | fn);
    }
  }
  return 0;
}
