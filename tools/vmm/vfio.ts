/**
 * PCI device assignment in the VMM (QEMU hw/vfio/pci.c and kvmtool vfio/pci.c, in
 * small): for each `--device BB:DD.F` the VMM binds the host function to vfio-pci
 * (libvirt's managed mode: the host driver lets go; drivers/vfio/vfio_main.ts), then
 * uses VFIO's file descriptors as QEMU does (include/uapi/linux/vfio.ts): open
 * /dev/vfio/vfio and /dev/vfio/GROUP, VFIO_GROUP_SET_CONTAINER, VFIO_SET_IOMMU(type1v2),
 * VFIO_IOMMU_MAP_DMA of every memslot at IOVA = GPA (each leaf carries the KeyID of the
 * host page, the one KVM's EPT uses), VFIO_GROUP_GET_DEVICE_FD, and pread/pwrite on the
 * device fd's config and BAR regions. The guest sees a PCI bus of its own:
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
import { pci_get_slot } from '../../drivers/pci/pci.js';
import { vfio_pci_bind, vfio_pci_unbind } from '../../drivers/vfio/vfio_main.js';
import {
  VFIO_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_DEVICE_GET_INFO, VFIO_DEVICE_GET_REGION_INFO, VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE, VFIO_DMA_MAP_SIZE, VFIO_GET_API_VERSION, VFIO_GROUP_FLAGS_VIABLE, VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER, VFIO_IOMMU_MAP_DMA, VFIO_PCI_BAR0_REGION_INDEX,
  VFIO_PCI_BAR5_REGION_INDEX, VFIO_PCI_CONFIG_REGION_INDEX, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU,
  type vfio_device_info, type vfio_group_status, type vfio_region_info,
} from '../../include/uapi/linux/vfio.js';
import { O_RDWR, sys_close, sys_open } from '../../fs/open.js';
import { sys_ioctl } from '../../fs/ioctl.js';
import { sys_pread64, sys_pwrite64 } from '../../fs/read_write.js';
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

/** A device as the VMM holds it: its VFIO descriptors and region offsets. */
class VfioDevice {
  container = -1;
  group = -1;
  device = -1;
  groupId = -1;
  /** Offset and size of each region (BAR0-5, config) from VFIO_DEVICE_GET_REGION_INFO. */
  readonly regions: { offset: number; size: number }[] = [];
  private readonly word = new Uint8Array(4);

  constructor(readonly name: string) {}

  read32(index: number, off: number): number {
    const r = this.regions[index];
    if (!r || sys_pread64(this.device, this.word, r.offset + off) !== 4) return 0xffffffff;
    return new DataView(this.word.buffer).getUint32(0, true);
  }

  write32(index: number, off: number, v: number): void {
    const r = this.regions[index];
    if (!r) return;
    new DataView(this.word.buffer).setUint32(0, v >>> 0, true);
    sys_pwrite64(this.device, this.word, r.offset + off);
  }

  /** Close the descriptors (the container's release unmaps and unpins) and unbind. */
  close(): void {
    for (const fd of [this.device, this.group, this.container]) if (fd >= 0) sys_close(fd);
    this.device = this.group = this.container = -1;
    if (this.groupId >= 0) vfio_pci_unbind(this.groupId);
    this.groupId = -1;
  }
}

/** One function on the guest's bus 0: an emulated config header and its BARs. */
class GuestFunction {
  readonly cfg = new Uint8Array(CFG);
  private readonly v = new DataView(this.cfg.buffer);
  /** Guest BAR i: base (0 = unassigned) and size, or null where the device has none. */
  readonly bars: ({ base: number; size: number } | null)[] = [];

  constructor(readonly devfn: number, readonly vc: VfioDevice | null) {}

  dword(off: number): number { return this.v.getUint32(off, true); }
  setDword(off: number, val: number): void { this.v.setUint32(off, val >>> 0, true); }
  get command(): number { return this.v.getUint16(PCI_COMMAND, true); }

  read(off: number): number { return off < CFG ? this.dword(off) : 0; }

  write(off: number, val: number): void {
    if (off === PCI_COMMAND) {
      const cmd = val & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
      const was = this.command;
      this.v.setUint16(PCI_COMMAND, cmd, true);
      if (this.vc && ((was ^ cmd) & PCI_COMMAND_MASTER)) {
        // Memory Space stays on in the device (the VMM's forwarding needs it); vfio-pci passes Bus Master.
        this.vc.write32(VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, PCI_COMMAND_MEMORY | (cmd & PCI_COMMAND_MASTER));
      }
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
  readonly devices: VfioDevice[] = [];
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
    const fail = (step: string, ret: number | bigint): number => {
      const n = Number(ret);
      if (n < 0) throw new CommandError(`${what}: ${step}${strerror(n)}`);
      return n;
    };
    const id = parseBdf(bdf);
    if (!id) throw new CommandError(`${what}: a PCI address BB:DD.F, such as 00:03.0`);
    const pdev = pci_get_slot(id.bus, id.devfn);
    if (!pdev) throw new CommandError(`${what}: no such device`);
    if (pdev.class >>> 16 === 0x06) throw new CommandError(`${what}: a bridge cannot be assigned`);
    if (id.bus !== 0 || this.fns.has(id.devfn)) throw new CommandError(`${what}: the guest's slot is taken`);
    const vd = new VfioDevice(pdev.dev.name);
    vd.groupId = fail('', vfio_pci_bind(pdev));
    this.devices.push(vd); // from here on, release() undoes it
    vd.container = fail('/dev/vfio/vfio: ', sys_open('/dev/vfio/vfio', O_RDWR));
    if (fail('VFIO_GET_API_VERSION: ', sys_ioctl(vd.container, VFIO_GET_API_VERSION)) !== VFIO_API_VERSION ||
      fail('VFIO_CHECK_EXTENSION: ', sys_ioctl(vd.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU)) !== 1) {
      throw new CommandError(`${what}: no VFIO type1v2 IOMMU`);
    }
    vd.group = fail(`/dev/vfio/${vd.groupId}: `, sys_open(`/dev/vfio/${vd.groupId}`, O_RDWR));
    const st: vfio_group_status = { argsz: 8, flags: 0 };
    fail('VFIO_GROUP_GET_STATUS: ', sys_ioctl(vd.group, VFIO_GROUP_GET_STATUS, st));
    if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) throw new CommandError(`${what}: group ${vd.groupId} is not viable`);
    fail('VFIO_GROUP_SET_CONTAINER: ', sys_ioctl(vd.group, VFIO_GROUP_SET_CONTAINER, vd.container));
    fail('VFIO_SET_IOMMU: ', sys_ioctl(vd.container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
    for (const s of slots) {
      fail('VFIO_IOMMU_MAP_DMA: ', sys_ioctl(vd.container, VFIO_IOMMU_MAP_DMA, {
        argsz: VFIO_DMA_MAP_SIZE, flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, vaddr: s.va, iova: s.gpa, size: s.size,
      }));
    }
    vd.device = fail('VFIO_GROUP_GET_DEVICE_FD: ', sys_ioctl(vd.group, VFIO_GROUP_GET_DEVICE_FD, vd.name));
    const info: vfio_device_info = { argsz: 16, flags: 0, num_regions: 0, num_irqs: 0 };
    fail('VFIO_DEVICE_GET_INFO: ', sys_ioctl(vd.device, VFIO_DEVICE_GET_INFO, info));
    for (let i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_CONFIG_REGION_INDEX && i < info.num_regions; i++) {
      const r: vfio_region_info = { argsz: 32, flags: 0, index: i, size: 0, offset: 0 };
      fail('VFIO_DEVICE_GET_REGION_INFO: ', sys_ioctl(vd.device, VFIO_DEVICE_GET_REGION_INFO, r));
      if (r.size) vd.regions[i] = { offset: r.offset, size: r.size };
    }
    const f = new GuestFunction(id.devfn, vd);
    for (const off of [0x00, 0x08, 0x2c]) f.setDword(off, vd.read32(VFIO_PCI_CONFIG_REGION_INDEX, off));
    f.cfg[0x0e] = 0; // single-function type-0 header in the guest
    f.cfg[0x3d] = vd.read32(VFIO_PCI_CONFIG_REGION_INDEX, 0x3c) >>> 8 & 0xff;
    this.fns.set(id.devfn, f);
  }

  /** The firmware's BAR placement (SeaBIOS pci_setup): naturally aligned, slot order, memory on. */
  assignBars(): void {
    let next = GUEST_BAR_BASE;
    for (const f of [...this.fns.values()].sort((a, b) => a.devfn - b.devfn)) {
      if (!f.vc) continue;
      f.vc.regions.forEach((r, i) => {
        if (!r || i > VFIO_PCI_BAR5_REGION_INDEX) return;
        const size = r.size;
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
        hit = () => vc.read32(b.bar, b.off);
        put = (v) => vc.write32(b.bar, b.off, v);
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

  /** Give every device back (unmap, IOTLB invalidate, unpin, bus mastering off, unbind). */
  release(): void {
    for (const vd of this.devices.splice(0)) vd.close();
  }
}
