/**
 * The PCI core (Linux drivers/pci/pci.c, access.c, pci-driver.c, and the ECAM
 * accessors of arch/x86/pci/mmconfig_64.c): struct pci_dev, configuration reads and
 * writes through the ECAM window the MCFG table names, enabling a device and its bus
 * mastering, mapping a BAR, and binding drivers by vendor/device ID.
 *
 * Configuration space is reached only through uncached MMIO loads and stores (readl /
 * writel on an ioremap of the ECAM window), the same instructions a driver uses on
 * its BARs. State is per boot (pci_core_init).
 */
import { readl, writel } from '../../arch/x86/include/asm/processor.js';
import { ioremap } from '../../arch/x86/mm/ioremap.js';
import { device_init, dev_info, type device } from '../base/core.js';

export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
export const PCI_CLASS_REVISION = 0x08;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BASE_ADDRESS_0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_INTERRUPT_LINE = 0x3c;

export interface resource { start: number; end: number; flags: number }
export const IORESOURCE_MEM = 0x200;

export interface pci_dev {
  bus: number;
  devfn: number;
  vendor: number;
  device: number;
  /** 24-bit class code (class << 16 | subclass << 8 | prog-if). */
  class: number;
  revision: number;
  subsystem_vendor: number;
  subsystem_device: number;
  pin: number;
  irq: number;
  resource: resource[];
  dev: device;
  driver: pci_driver | null;
  /** Configuration dwords 0x04-0x3c as pci_save_state() last saw them. */
  saved_config_space?: number[];
}

export interface pci_device_id { vendor: number; device: number }

export interface pci_driver {
  name: string;
  id_table: pci_device_id[];
  probe(pdev: pci_dev, id: pci_device_id): number;
}

export const PCI_SLOT = (devfn: number): number => devfn >>> 3;
export const PCI_FUNC = (devfn: number): number => devfn & 7;
export const PCI_DEVID = (bus: number, devfn: number): number => (bus << 8) | devfn;

/** "0000:00:03.0" (pci_name). */
export function pci_name(bus: number, devfn: number): string {
  return `0000:${hex2(bus)}:${hex2(PCI_SLOT(devfn))}.${PCI_FUNC(devfn)}`;
}
function hex2(n: number): string { return n.toString(16).padStart(2, '0'); }

let ecam_va = 0;
let ecam_buses = 0;
let devices: pci_dev[] = [];
let drivers: pci_driver[] = [];

export function pci_core_init(): void {
  ecam_va = 0;
  ecam_buses = 0;
  devices = [];
  drivers = [];
}

/** Map the first `buses` buses of an ECAM window (pci_mmcfg_arch_map). 0 or -ENOMEM. */
export function pci_mmcfg_map(phys: number, buses: number): number {
  const va = ioremap(phys, buses << 20);
  if (!va) return -12;
  ecam_va = va;
  ecam_buses = buses;
  return 0;
}

function cfg_addr(bus: number, devfn: number, where: number): number {
  if (!ecam_va || bus >= ecam_buses || where < 0 || where > 4092) return 0;
  return ecam_va + bus * 2 ** 20 + devfn * 4096 + (where & ~3);
}

/** pci_bus_read_config_dword: all ones for a missing function (or no ECAM). */
export function pci_bus_read_config_dword(bus: number, devfn: number, where: number): number {
  const a = cfg_addr(bus, devfn, where);
  return a ? readl(a) >>> 0 : 0xffffffff;
}
export function pci_bus_write_config_dword(bus: number, devfn: number, where: number, v: number): void {
  const a = cfg_addr(bus, devfn, where);
  if (a) writel(a, v >>> 0);
}

export function pci_read_config_dword(d: pci_dev, where: number): number {
  return pci_bus_read_config_dword(d.bus, d.devfn, where);
}
export function pci_read_config_word(d: pci_dev, where: number): number {
  return (pci_read_config_dword(d, where & ~3) >>> ((where & 2) * 8)) & 0xffff;
}
export function pci_read_config_byte(d: pci_dev, where: number): number {
  return (pci_read_config_dword(d, where & ~3) >>> ((where & 3) * 8)) & 0xff;
}
export function pci_write_config_dword(d: pci_dev, where: number, v: number): void {
  pci_bus_write_config_dword(d.bus, d.devfn, where, v);
}
export function pci_write_config_word(d: pci_dev, where: number, v: number): void {
  const shift = (where & 2) * 8;
  const old = pci_read_config_dword(d, where & ~3);
  pci_write_config_dword(d, where & ~3, ((old & ~(0xffff << shift)) | ((v & 0xffff) << shift)) >>> 0);
}

/** A device found by enumeration (drivers/pci/probe.c pci_setup_device). */
export function pci_alloc_dev(bus: number, devfn: number): pci_dev {
  const idw = pci_bus_read_config_dword(bus, devfn, PCI_VENDOR_ID);
  const cr = pci_bus_read_config_dword(bus, devfn, PCI_CLASS_REVISION);
  const sub = pci_bus_read_config_dword(bus, devfn, PCI_SUBSYSTEM_VENDOR_ID);
  const intr = pci_bus_read_config_dword(bus, devfn, PCI_INTERRUPT_LINE);
  return {
    bus, devfn, vendor: idw & 0xffff, device: idw >>> 16, class: cr >>> 8, revision: cr & 0xff,
    subsystem_vendor: sub & 0xffff, subsystem_device: sub >>> 16, pin: (intr >>> 8) & 0xff, irq: 0,
    resource: [], dev: device_init(pci_name(bus, devfn), 'pci'), driver: null,
  };
}

export function pci_device_add(d: pci_dev): void { devices.push(d); }
export function pci_devices(): readonly pci_dev[] { return devices; }

/** pci_get_domain_bus_and_slot for domain 0. */
export function pci_get_slot(bus: number, devfn: number): pci_dev | null {
  return devices.find((d) => d.bus === bus && d.devfn === devfn) ?? null;
}

/** pci_enable_device_mem: turn on memory decoding. */
export function pci_enable_device_mem(d: pci_dev): number {
  const cmd = pci_read_config_word(d, PCI_COMMAND);
  if (!(cmd & PCI_COMMAND_MEMORY)) pci_write_config_word(d, PCI_COMMAND, cmd | PCI_COMMAND_MEMORY);
  return 0;
}

/** pci_set_master: allow the device to issue DMA. */
export function pci_set_master(d: pci_dev): void {
  const cmd = pci_read_config_word(d, PCI_COMMAND);
  if (!(cmd & PCI_COMMAND_MASTER)) pci_write_config_word(d, PCI_COMMAND, cmd | PCI_COMMAND_MASTER);
}

export function pci_clear_master(d: pci_dev): void {
  const cmd = pci_read_config_word(d, PCI_COMMAND);
  pci_write_config_word(d, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
}

/** pci_iomap: the BAR's registers, uncached; 0 if the BAR is absent. */
export function pci_iomap(d: pci_dev, bar: number): number {
  const r = d.resource[bar];
  if (!r || !(r.flags & IORESOURCE_MEM)) return 0;
  return ioremap(r.start, r.end - r.start + 1);
}

function pci_bus_match(d: pci_dev, drv: pci_driver): pci_device_id | null {
  return drv.id_table.find((id) => id.vendor === d.vendor && id.device === d.device) ?? null;
}

function pci_device_probe(d: pci_dev, drv: pci_driver, id: pci_device_id): void {
  d.dev.driver = drv.name;
  const ret = drv.probe(d, id);
  if (ret < 0) {
    dev_info(d.dev, `probe with driver ${drv.name} failed with error ${ret}`);
    d.dev.driver = null;
    return;
  }
  d.driver = drv;
}

/** device_attach (a write to /sys/bus/pci/drivers_probe): bind an unbound device to a matching driver. */
export function pci_device_attach(d: pci_dev): void {
  if (d.driver) return;
  for (const drv of drivers) {
    const id = pci_bus_match(d, drv);
    if (id) { pci_device_probe(d, drv, id); return; }
  }
}

/** pci_register_driver: bind to every matching device now, and to later ones. */
export function pci_register_driver(drv: pci_driver): number {
  drivers.push(drv);
  for (const d of devices) {
    if (d.driver) continue;
    const id = pci_bus_match(d, drv);
    if (id) pci_device_probe(d, drv, id);
  }
  return 0;
}

/** pci_save_state(): keep the command register, BARs and the rest of the header. */
export function pci_save_state(d: pci_dev): void {
  d.saved_config_space = [];
  for (let where = 0x04; where <= 0x3c; where += 4) d.saved_config_space.push(pci_read_config_dword(d, where));
}

/**
 * pci_restore_state(): write the saved header back after the function was reset (S3),
 * BARs before the command register that enables decoding them, as Linux's
 * pci_restore_config_space does (it restores from the top dword down).
 */
export function pci_restore_state(d: pci_dev): void {
  const saved = d.saved_config_space;
  if (!saved) return;
  for (let i = saved.length - 1; i >= 0; i--) pci_write_config_dword(d, 0x04 + 4 * i, saved[i]);
}
