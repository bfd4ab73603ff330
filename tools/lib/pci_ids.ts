/**
 * The few pci.ids entries this board needs (the PCI ID Repository, pci-ids.ucw.cz,
 * which lspci reads from /usr/share/misc/pci.ids): vendor, device and subsystem
 * names, and the class names of pciutils' lib/names.c.
 */
const VENDORS: Record<number, string> = { 0x8086: 'Intel Corporation', 0x1af4: 'Red Hat, Inc.' };
const DEVICES: Record<string, string> = {
  '8086:29c0': '82G33/G31/P35/P31 Express DRAM Controller',
  '1af4:1001': 'Virtio block device',
};
const SUBSYSTEMS: Record<string, string> = { '1af4:1100': 'QEMU Virtual Machine' };
const CLASSES: Record<number, string> = {
  0x0100: 'SCSI storage controller', 0x0106: 'SATA controller', 0x0108: 'Non-Volatile memory controller',
  0x0600: 'Host bridge', 0x0601: 'ISA bridge', 0x0604: 'PCI bridge', 0x0200: 'Ethernet controller',
};

const h4 = (n: number): string => n.toString(16).padStart(4, '0');

export function pci_vendor_name(v: number): string { return VENDORS[v] ?? `Device ${h4(v)}`; }
export function pci_device_name(v: number, d: number): string { return DEVICES[`${h4(v)}:${h4(d)}`] ?? `Device ${h4(d)}`; }
export function pci_subsystem_name(sv: number, sd: number): string {
  return SUBSYSTEMS[`${h4(sv)}:${h4(sd)}`] ?? `Device ${h4(sd)}`;
}
export function pci_class_name(cls: number): string { return CLASSES[cls] ?? `Class ${h4(cls)}`; }
