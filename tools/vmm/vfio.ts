/**
 * PCI device assignment in the VMM (QEMU hw/vfio/pci.c and kvmtool vfio/pci.c, in
 * small): for each `--device BB:DD.F` the VMM takes the host function through VFIO
 * (drivers/vfio/vfio.ts: the host driver unbinds, the device gets its own IOMMU
 * domain), maps every memslot of the VM into that domain at IOVA = GPA
 * (VFIO_IOMMU_MAP_DMA; each leaf carries the KeyID of the host page, the one KVM's EPT
 * uses), and shows the guest a PCI bus of its own:
 *
 *  - an ECAM window at GUEST_ECAM_BASE, named by the MCFG in the guest's ACPI tables
 *    (tools/vmm/acpi.ts). Config space is emulated here, as QEMU's vfio-pci does for
 *    the fields it virtualizes: a host bridge at 00:00.0 (Q35's 8086:29c0), and the
 *    assigned function at its host slot with the real device's IDs, class, subsystem
 *    and interrupt pin (read from VFIO's config region), virtual BARs (the sizing
 *    protocol answered from the real BAR sizes, placed by this "firmware" from
 *    GUEST_BAR_BASE) and a virtual command register whose Bus Master bit reaches the
 *    device.
 *  - BAR MMIO: nothing backs the guest's BAR addresses in EPT, so every guest readl /
 *    writel there is a KVM_EXIT_MMIO which the VMM forwards to the real BAR through
 *    VFIO's region read/write (vfio_pci_bar_rw), uncached and without KeyID. (QEMU would
 *    mmap the BAR and give KVM a memslot for it; trapping costs an exit per register
 *    access, which for virtio's doorbell-and-status protocol is a handful per request.)
 *
 * The guest has no vIOMMU: its driver's DMA addresses are guest-physical, and the
 * host's IOMMU domain turns them into host addresses with the VM's KeyID. DMA to
 * anything outside the VM's memslots is a DMAR fault, logged by the host.
 *
 * Pinning: VFIO pins every page it maps (vfio_pin_pages), so creating a VM with a
 * device faults in and pins all of guest RAM up front (64 MiB is 16384 first-touch
 * faults); small guests (--mem 16M) keep that cheap. Linux does the same; lazy
 * pinning would need an IOMMU that can fault (PRI), which VT-d second-level tables
 * for a legacy device do not.
 */
import { CommandError } from '../registry.js';
import { strerror } from '../../kernel/errno.js';
import { current } from '../../kernel/sched.js';
import { pci_get_slot } from '../../drivers/pci/pci.js';
import {
  vfio_assign_device, vfio_iommu_map_dma, vfio_pci_bar_read, vfio_pci_bar_write, vfio_pci_config_read,
  vfio_pci_config_write_command, vfio_release, type vfio_container,
} from '../../drivers/vfio/vfio.js';
import { GUEST_ECAM_BASE, GUEST_ECAM_BUSES } from './acpi.js';

/** Where the guest's BARs go (the start of this board's BAR window, as on the host). */
export const GUEST_BAR_BASE = 0xfe00_0000;
const CFG = 256;
const PCI_COMMAND = 0x04, PCI_COMMAND_MEMORY = 0x2, PCI_COMMAND_MASTER = 0x4, PCI_BAR0 = 0x10;

/** "00:03.0" or "0000:00:03.0" as (bus, devfn), or null. */
export function parseBdf(s: string): { bus: number; devfn: number } | null {
  const m = /^(?:0000:)?([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(s);
  if (!m) return null;
  const dev = parseInt(m[2], 16);
  if (dev > 31) return null;
  return { bus: parseInt(m[1], 16), devfn: (dev << 3) | Number(m[3]) };
}

/** One function on the guest's bus 0: an emulated config header and its BARs. */
class GuestFunction {
  readonly cfg = new Uint8Array(CFG);
  private readonly v = new DataView(this.cfg.buffer);
  /** Guest BAR i: base (0 = unassigned) and size, or null where the device has none. */
  readonly bars: ({ base: number; size: number } | null)[] = [];

  constructor(readonly devfn: number, readonly vc: vfio_container | null) {}

  dword(off: number): number { return this.v.getUint32(off, true); }
  setDword(off: number, val: number): void { this.v.setUint32(off, val >>> 0, true); }
  get command(): number { return this.v.getUint16(PCI_COMMAND, true); }

  read(off: number): number { return off < CFG ? this.dword(off) : 0; }

  write(off: number, val: number): void {
    if (off === PCI_COMMAND) {
      const cmd = val & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
      const was = this.command;
      this.v.setUint16(PCI_COMMAND, cmd, true);
      if (this.vc && ((was ^ cmd) & PCI_COMMAND_MASTER)) vfio_pci_config_write_command(this.vc, (cmd & PCI_COMMAND_MASTER) !== 0);
    } else if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
      const b = this.bars[(off - PCI_BAR0) / 4];
      if (!b) return;
      b.base = (val & ~(b.size - 1) & 0xfffffff0) >>> 0;
      this.setDword(off, b.base);
    } else if (off === 0x3c) this.cfg[0x3c] = val & 0xff;
  }

  /** The BAR and offset a guest-physical address falls in, if it decodes. */
  barAt(gpa: number): { bar: number; off: number } | null {
    if (!(this.command & PCI_COMMAND_MEMORY)) return null;
    for (let i = 0; i < this.bars.length; i++) {
      const b = this.bars[i];
      if (b && b.base && gpa >= b.base && gpa < b.base + b.size) return { bar: i, off: gpa - b.base };
    }
    return null;
  }
}

/** A memslot as the VMM holds it. */
export interface DmaSlot { gpa: number; size: number; va: number }

/** The guest's PCI bus and the host devices behind it. */
export class VfioBus {
  private readonly fns = new Map<number, GuestFunction>();
  readonly containers: vfio_container[] = [];
  /** KVM_EXIT_MMIOs served (ECAM + BARs). */
  exits = 0;

  constructor() {
    const hb = new GuestFunction(0, null);
    hb.setDword(0x00, 0x29c0_8086);  // Q35's host bridge, as QEMU's q35 machine shows it
    hb.setDword(0x08, 0x0600_0000);  // class 06 00 00: host bridge, revision 0
    hb.setDword(0x2c, 0x1100_1af4);  // subsystem: Red Hat, Inc. QEMU Virtual Machine
    this.fns.set(0, hb);
  }

  /**
   * Assign host function BDF (as the VMM process: run inside its run_as) and map
   * every memslot into its IOMMU domain at IOVA = GPA.
   */
  assign(bdf: string, slots: readonly DmaSlot[]): void {
    const what = `--device ${bdf}`;
    const id = parseBdf(bdf);
    if (!id) throw new CommandError(`${what}: a PCI address BB:DD.F, such as 00:03.0`);
    const pdev = pci_get_slot(id.bus, id.devfn);
    if (!pdev) throw new CommandError(`${what}: no such device`);
    if (pdev.class >>> 16 === 0x06) throw new CommandError(`${what}: a bridge cannot be assigned`);
    if (id.bus !== 0 || this.fns.has(id.devfn)) throw new CommandError(`${what}: the guest's slot is taken`);
    const vc = vfio_assign_device(pdev);
    if (typeof vc === 'number') throw new CommandError(`${what}: ${strerror(vc)}`);
    this.containers.push(vc);
    for (const s of slots) {
      const ret = vfio_iommu_map_dma(vc, current().mm!, s.va, s.gpa, s.size);
      if (ret < 0) throw new CommandError(`${what}: VFIO_IOMMU_MAP_DMA: ${strerror(ret)}`);
    }
    const f = new GuestFunction(id.devfn, vc);
    for (const off of [0x00, 0x08, 0x2c]) f.setDword(off, vfio_pci_config_read(vc, off));
    f.cfg[0x0e] = 0; // single-function type-0 header in the guest
    f.cfg[0x3d] = vfio_pci_config_read(vc, 0x3c) >>> 8 & 0xff;
    this.fns.set(id.devfn, f);
  }

  /** The firmware's BAR placement (SeaBIOS pci_setup): naturally aligned, slot order, memory on. */
  assignBars(): void {
    let next = GUEST_BAR_BASE;
    for (const f of [...this.fns.values()].sort((a, b) => a.devfn - b.devfn)) {
      if (!f.vc) continue;
      f.vc.pdev.resource.forEach((r, i) => {
        if (!r) return;
        const size = r.end - r.start + 1;
        next = Math.ceil(next / size) * size;
        f.bars[i] = { base: 0, size };
        f.write(PCI_BAR0 + 4 * i, next);
        next += size;
      });
      f.write(PCI_COMMAND, PCI_COMMAND_MEMORY);
    }
  }

  /**
   * A KVM_EXIT_MMIO: true if it was the bus's (ECAM or a BAR), with read data in
   * `data`. Only aligned 32-bit accesses reach registers; others read all ones.
   */
  mmio(gpa: number, data: Uint8Array, len: number, isWrite: boolean): boolean {
    const ecamEnd = GUEST_ECAM_BASE + GUEST_ECAM_BUSES * 2 ** 20;
    let hit: (() => number) | null = null;
    let put: ((v: number) => void) | null = null;
    if (gpa >= GUEST_ECAM_BASE && gpa < ecamEnd) {
      const off = gpa - GUEST_ECAM_BASE;
      const f = this.fns.get(Math.floor(off / 4096));
      const reg = off % 4096;
      hit = () => (f ? f.read(reg) : 0xffffffff);
      put = (v) => f?.write(reg, v);
    } else {
      for (const f of this.fns.values()) {
        const b = f.barAt(gpa);
        if (!b || !f.vc) continue;
        const vc = f.vc;
        hit = () => vfio_pci_bar_read(vc, b.bar, b.off);
        put = (v) => { vfio_pci_bar_write(vc, b.bar, b.off, v); };
        break;
      }
    }
    if (!hit || !put) return false;
    this.exits++;
    const ok = len === 4 && gpa % 4 === 0;
    if (isWrite) {
      if (ok) put(data[0] | data[1] << 8 | data[2] << 16 | data[3] << 24);
    } else {
      const v = ok ? hit() : 0xffffffff;
      for (let i = 0; i < len; i++) data[i] = i < 4 ? (v >>> (8 * i)) & 0xff : 0xff;
    }
    return true;
  }

  /** Give every device back (unmap, IOTLB invalidate, unpin, bus mastering off). */
  release(): void {
    for (const vc of this.containers.splice(0)) vfio_release(vc);
  }
}
