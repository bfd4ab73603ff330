/**
 * lspci: the PCI devices, in pciutils' formats (lspci(8); ls-kernel.c for the
 * driver and IOMMU group). Configuration space is read through the kernel's PCI
 * accessors, as lspci reads /sys/bus/pci/devices/.../config.
 *
 *   lspci          00:03.0 SCSI storage controller: Red Hat, Inc. Virtio block device
 *   lspci -n       00:03.0 0100: 1af4:1001
 *   lspci -nn      00:03.0 SCSI storage controller [0100]: Red Hat, Inc. Virtio block device [1af4:1001]
 *   lspci -v       + Subsystem, Flags (bus master, IOMMU group), BARs, the driver in use
 *   lspci -s 00:03.0   one slot
 */
import { pci_devices, pci_read_config_dword, pci_read_config_word, type pci_dev } from '../../drivers/pci/pci.js';
import { CommandError, UsageError, type Command } from '../registry.js';
import { getopt, type KernelShellContext } from '../context.js';
import { pci_class_name, pci_device_name, pci_subsystem_name, pci_vendor_name } from '../lib/pci_ids.js';

const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');

function slot(d: pci_dev): string { return `${h(d.bus, 2)}:${h(d.devfn >>> 3, 2)}.${d.devfn & 7}`; }

function size_text(size: number): string {
  if (size >= 2 ** 30 && size % 2 ** 30 === 0) return `${size / 2 ** 30}G`;
  if (size >= 2 ** 20 && size % 2 ** 20 === 0) return `${size / 2 ** 20}M`;
  if (size >= 1024 && size % 1024 === 0) return `${size / 1024}K`;
  return String(size);
}

function line(d: pci_dev, numeric: number): string {
  const cls = d.class >>> 8;
  const rev = d.revision ? ` (rev ${h(d.revision, 2)})` : '';
  if (numeric === 1) return `${slot(d)} ${h(cls, 4)}: ${h(d.vendor, 4)}:${h(d.device, 4)}${rev}`;
  const name = `${pci_vendor_name(d.vendor)} ${pci_device_name(d.vendor, d.device)}`;
  if (numeric >= 2) return `${slot(d)} ${pci_class_name(cls)} [${h(cls, 4)}]: ${name} [${h(d.vendor, 4)}:${h(d.device, 4)}]${rev}`;
  return `${slot(d)} ${pci_class_name(cls)}: ${name}${rev}`;
}

function verbose(d: pci_dev): string[] {
  const out: string[] = [];
  if (d.subsystem_vendor) out.push(`\tSubsystem: ${pci_vendor_name(d.subsystem_vendor)} ${pci_subsystem_name(d.subsystem_vendor, d.subsystem_device)}`);
  const cmd = pci_read_config_word(d, 0x04);
  const flags: string[] = [];
  if (cmd & 4) flags.push('bus master');
  flags.push('fast devsel');
  if (cmd & 4) flags.push(`latency ${(pci_read_config_dword(d, 0x0c) >>> 8) & 0xff}`);
  if (d.irq) flags.push(`IRQ ${d.irq}`);
  if (d.dev.iommu_group !== null) flags.push(`IOMMU group ${d.dev.iommu_group}`);
  out.push(`\tFlags: ${flags.join(', ')}`);
  d.resource.forEach((r) => {
    if (!r) return;
    const size = r.end - r.start + 1;
    out.push(`\tMemory at ${h(r.start, 8)} (32-bit, non-prefetchable)${cmd & 2 ? '' : ' [disabled]'} [size=${size_text(size)}]`);
  });
  if (d.driver) out.push(`\tKernel driver in use: ${d.driver.name}`);
  return out;
}

export const lspciCommand: Command<KernelShellContext> = {
  name: 'lspci',
  usage: 'lspci [-v] [-n|-nn] [-s [[BB]:DD.F]]',
  summary: 'list PCI devices (pciutils format)',
  run(_ctx, args, io) {
    const g = getopt(args, 'vns:');
    if (g.rest.length) throw new UsageError(`unexpected argument '${g.rest[0]}'`);
    let v = 0, n = 0, sel: string | null = null;
    for (const [o, a] of g.opts) {
      if (o === 'v') v++;
      else if (o === 'n') n++;
      else sel = a;
    }
    let devs = [...pci_devices()];
    if (sel !== null) {
      const m = /^(?:([0-9a-f]{1,2}):)?([0-9a-f]{1,2})(?:\.([0-7]))?$/i.exec(sel);
      if (!m) throw new CommandError(`-s: Invalid slot number`);
      devs = devs.filter((d) => (m[1] === undefined || d.bus === parseInt(m[1], 16)) &&
        (d.devfn >>> 3) === parseInt(m[2], 16) && (m[3] === undefined || (d.devfn & 7) === Number(m[3])));
    }
    for (const d of devs) {
      io.out(line(d, n) + '\n');
      if (v) io.out(verbose(d).join('\n') + '\n\n');
    }
    return 0;
  },
};
