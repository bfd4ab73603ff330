/**
 * A DMA block device modelled on virtio-blk (Virtual I/O Device spec 1.1, §5.2 block
 * device, §2.6 split virtqueues), on PCI as a transitional virtio device
 * (1af4:1001, class 0x010000, "SCSI storage controller", as QEMU's virtio-blk-pci
 * shows in lspci). Its registers sit in BAR0 with the virtio-mmio v2 layout (§4.2.2),
 * which keeps the transport to plain 32-bit registers:
 *
 *   0x000 MagicValue 'virt'  0x004 Version 2   0x008 DeviceID 2 (block)
 *   0x010 DeviceFeatures (word DeviceFeaturesSel at 0x014), 0x020/0x024 DriverFeatures
 *   0x030 QueueSel  0x034 QueueNumMax  0x038 QueueNum  0x044 QueueReady
 *   0x050 QueueNotify (the doorbell)   0x060 InterruptStatus  0x064 InterruptACK
 *   0x070 Status  0x080/84 QueueDesc  0x090/94 QueueDriver (avail)  0x0a0/a4 QueueDevice (used)
 *   0x0f8 DmaAddressBits: 64, or 32 for a device that cannot drive address bits 63:32
 *         (this board's extension, the information an AHCI HBA gives in CAP.S64A);
 *         such a device ignores the ...High halves and rejects buffers above 4 GiB.
 *   0x100 config: capacity (512-byte sectors, u64), 0x114 blk_size
 *
 * A request is a descriptor chain: a 16-byte header the device reads (type: 0 IN,
 * 1 OUT, 4 FLUSH, 8 GET_ID; reserved; sector u64), data buffers (device-writable for
 * IN), and one device-writable status byte (0 OK, 1 IOERR, 2 UNSUPP). The doorbell
 * runs every available chain at once; completion is the used ring entry, the status
 * byte and InterruptStatus bit 0 (polled by the driver: no interrupt controller yet).
 *
 * Bad input never hurts the disk: a request beyond the capacity, a data length that is
 * not whole sectors, a buffer in the wrong direction or a DMA the IOMMU blocks ends
 * with IOERR and writes nothing to the medium (OUT data is fetched completely before
 * any sector is written). A chain the device cannot parse at all (index out of range,
 * a loop, no status byte) sets DEVICE_NEEDS_RESET (§2.1.2) and stops the queue.
 *
 * Sectors are backed by a sparse image, or a host file (`--disk PATH`) so that data
 * survives across runs. All DMA goes through `DmaPort` (IOMMU, then the caches).
 */
import type { DiskConfig } from './config.js';
import { SparseMemory } from './dram.js';
import type { DmaPort } from './pci/dma.js';
import { PciFunction } from './pci/device.js';
import type { MmioRegion } from './pci/mmio.js';

export const SECTOR = 512;
export const VIRTIO_BLK_T_IN = 0, VIRTIO_BLK_T_OUT = 1, VIRTIO_BLK_T_FLUSH = 4, VIRTIO_BLK_T_GET_ID = 8;
export const VIRTIO_BLK_S_OK = 0, VIRTIO_BLK_S_IOERR = 1, VIRTIO_BLK_S_UNSUPP = 2;
export const VIRTQ_DESC_F_NEXT = 1, VIRTQ_DESC_F_WRITE = 2;
export const VIRTIO_STATUS_DRIVER_OK = 4, VIRTIO_STATUS_NEEDS_RESET = 64;
export const QUEUE_NUM_MAX = 128;
/** Feature bits offered: VIRTIO_BLK_F_FLUSH (9), VIRTIO_F_VERSION_1 (32), VIRTIO_F_ACCESS_PLATFORM (33). */
export const DEVICE_FEATURES = [1 << 9, 0b11];


/** Fault injection for the next request (the `blk inject` knob): a stray DMA. */
export type BlkInject = 'none' | 'unmapped' | 'readonly';
/** Where an 'unmapped' injection sends the data: an IOVA no driver maps, and in the
 *  PCI hole when untranslated, so a machine without an IOMMU only gets a master abort. */
export const INJECT_IOVA = 0xdead_0000;

interface Desc { addr: number; len: number; flags: number; next: number }

export class VirtioBlk {
  readonly pci: PciFunction;
  readonly medium: SparseMemory;
  readonly sectors: number;
  private status = 0;
  private features = [0, 0];
  private devSel = 0;
  private drvSel = 0;
  private queueNum = QUEUE_NUM_MAX;
  private ready = 0;
  private desc = 0;
  private avail = 0;
  private used = 0;
  private lastAvail = 0;
  private isr = 0;
  inject: BlkInject = 'none';
  /** Requests completed, for the bench. */
  requests = 0;

  constructor(dev: number, readonly cfg: DiskConfig, private readonly dma: DmaPort) {
    this.sectors = Math.floor(cfg.size / SECTOR);
    this.medium = new SparseMemory(this.sectors * SECTOR, cfg.file);
    const region: MmioRegion = {
      name: 'virtio-blk', base: 0, size: 0x1000,
      read32: (off) => this.read32(off),
      write32: (off, v) => this.write32(off, v),
    };
    this.pci = new PciFunction(0, dev, 0, {
      vendor: 0x1af4, device: 0x1001, classCode: 0x010000, revision: 0,
      subVendor: 0x1af4, subDevice: 0x0002, interruptPin: 1,
    }, [{ size: 0x1000, region }]);
  }

  reset(): void {
    this.status = 0; this.features = [0, 0]; this.devSel = this.drvSel = 0;
    this.queueNum = QUEUE_NUM_MAX; this.ready = 0;
    this.desc = this.avail = this.used = 0; this.lastAvail = 0; this.isr = 0;
  }

  private get dma32(): boolean { return this.cfg.dmaBits === 32; }

  private setHalf(cur: number, v: number, high: boolean): number {
    if (high) return this.dma32 ? cur : (v >>> 0) * 2 ** 32 + (cur % 2 ** 32);
    return Math.floor(cur / 2 ** 32) * 2 ** 32 + (v >>> 0);
  }

  private read32(off: number): number {
    switch (off) {
      case 0x000: return 0x74726976;
      case 0x004: return 2;
      case 0x008: return 2;
      case 0x00c: return 0x554d4551;
      case 0x010: return DEVICE_FEATURES[this.devSel] ?? 0;
      case 0x034: return QUEUE_NUM_MAX;
      case 0x038: return this.queueNum;
      case 0x044: return this.ready;
      case 0x060: return this.isr;
      case 0x070: return this.status;
      case 0x080: return this.desc % 2 ** 32;
      case 0x084: return Math.floor(this.desc / 2 ** 32);
      case 0x090: return this.avail % 2 ** 32;
      case 0x094: return Math.floor(this.avail / 2 ** 32);
      case 0x0a0: return this.used % 2 ** 32;
      case 0x0a4: return Math.floor(this.used / 2 ** 32);
      case 0x0f8: return this.cfg.dmaBits;
      case 0x0fc: return 0; // ConfigGeneration
      case 0x100: return this.sectors % 2 ** 32;
      case 0x104: return Math.floor(this.sectors / 2 ** 32);
      case 0x114: return SECTOR;
      default: return 0;
    }
  }

  private write32(off: number, v: number): void {
    switch (off) {
      case 0x014: this.devSel = v; return;
      case 0x020: if (this.drvSel < 2) this.features[this.drvSel] = v & (DEVICE_FEATURES[this.drvSel] ?? 0); return;
      case 0x024: this.drvSel = v; return;
      case 0x030: return; // one queue: QueueSel is always 0
      case 0x038: if (v >= 1 && v <= QUEUE_NUM_MAX && (v & (v - 1)) === 0) this.queueNum = v; return;
      case 0x044: this.ready = v & 1; if (this.ready) this.lastAvail = 0; return;
      case 0x050: if (v === 0) this.notify(); return;
      case 0x064: this.isr &= ~v; return;
      case 0x070: if (v === 0) this.reset(); else this.status = v & 0xff & ~VIRTIO_STATUS_NEEDS_RESET | (this.status & VIRTIO_STATUS_NEEDS_RESET); return;
      case 0x080: this.desc = this.setHalf(this.desc, v, false); return;
      case 0x084: this.desc = this.setHalf(this.desc, v, true); return;
      case 0x090: this.avail = this.setHalf(this.avail, v, false); return;
      case 0x094: this.avail = this.setHalf(this.avail, v, true); return;
      case 0x0a0: this.used = this.setHalf(this.used, v, false); return;
      case 0x0a4: this.used = this.setHalf(this.used, v, true); return;
      default: return;
    }
  }

  // --- the queue ---------------------------------------------------------------------

  private rd(addr: number, len: number): Uint8Array | null {
    const b = new Uint8Array(len);
    return this.dma.read(this.pci.sid, addr, b) === 'ok' ? b : null;
  }

  private wr(addr: number, bytes: Uint8Array): boolean {
    return this.dma.write(this.pci.sid, addr, bytes) === 'ok';
  }

  private needsReset(): void { this.status |= VIRTIO_STATUS_NEEDS_RESET; }

  /** The doorbell: run every chain the driver made available. */
  private notify(): void {
    if (!(this.status & VIRTIO_STATUS_DRIVER_OK) || !this.ready || !this.pci.busMaster) return;
    if (this.status & VIRTIO_STATUS_NEEDS_RESET) return;
    const idxB = this.rd(this.avail + 2, 2);
    if (!idxB) { this.needsReset(); return; }
    const availIdx = idxB[0] | (idxB[1] << 8);
    while (this.lastAvail !== availIdx) {
      const slot = this.lastAvail % this.queueNum;
      const hb = this.rd(this.avail + 4 + 2 * slot, 2);
      if (!hb) { this.needsReset(); return; }
      const head = hb[0] | (hb[1] << 8);
      const chain = this.chain(head);
      if (!chain) { this.needsReset(); return; }
      const written = this.execute(chain);
      if (written < 0) { this.needsReset(); return; }
      // used ring: elem {id u32, len u32} at used + 4 + 8*slot, then idx at used + 2
      const usedSlot = this.lastAvail % this.queueNum;
      const elem = new Uint8Array(8);
      const dv = new DataView(elem.buffer);
      dv.setUint32(0, head, true);
      dv.setUint32(4, written, true);
      this.lastAvail = (this.lastAvail + 1) & 0xffff;
      const idx = new Uint8Array([this.lastAvail & 0xff, this.lastAvail >>> 8]);
      if (!this.wr(this.used + 4 + 8 * usedSlot, elem) || !this.wr(this.used + 2, idx)) { this.needsReset(); return; }
      this.isr |= 1;
      this.requests++;
    }
  }

  /** Read a descriptor chain; null if it cannot be parsed (needs reset). */
  private chain(head: number): Desc[] | null {
    const out: Desc[] = [];
    let i = head;
    for (;;) {
      if (i >= this.queueNum || out.length >= this.queueNum) return null;
      const b = this.rd(this.desc + 16 * i, 16);
      if (!b) return null;
      const dv = new DataView(b.buffer);
      const d = { addr: dv.getUint32(0, true) + dv.getUint32(4, true) * 2 ** 32, len: dv.getUint32(8, true),
        flags: dv.getUint16(12, true), next: dv.getUint16(14, true) };
      if (d.flags & ~(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE)) return null; // INDIRECT not offered
      out.push(d);
      if (!(d.flags & VIRTQ_DESC_F_NEXT)) break;
      i = d.next;
    }
    const last = out[out.length - 1];
    if (out.length < 2 || !(last.flags & VIRTQ_DESC_F_WRITE) || last.len < 1 || out[0].flags & VIRTQ_DESC_F_WRITE) return null;
    return out;
  }

  /** Run one request; returns the bytes written into device-writable buffers, -1 if the
   *  status byte itself could not be written. */
  private execute(chain: Desc[]): number {
    const statusDesc = chain[chain.length - 1];
    const data = chain.slice(1, -1);
    const inject = this.inject;
    this.inject = 'none';
    const statusAddr = inject === 'readonly' ? chain[0].addr : statusDesc.addr;
    const finish = (st: number, written: number): number =>
      this.wr(statusAddr, new Uint8Array([st])) ? written + 1 : -1;
    const reachable = (d: Desc): boolean => !this.dma32 || d.addr + d.len <= 2 ** 32;
    if (!chain.every(reachable)) return finish(VIRTIO_BLK_S_IOERR, 0);
    const hdr = chain[0].len >= 16 ? this.rd(chain[0].addr, 16) : null;
    if (!hdr) return finish(VIRTIO_BLK_S_IOERR, 0);
    const hv = new DataView(hdr.buffer);
    const type = hv.getUint32(0, true);
    const sector = hv.getUint32(8, true) + hv.getUint32(12, true) * 2 ** 32;
    const total = data.reduce((n, d) => n + d.len, 0);
    const target = (d: Desc, k: number): number => (inject === 'unmapped' && k === 0 ? INJECT_IOVA : d.addr);
    switch (type) {
      case VIRTIO_BLK_T_IN:
      case VIRTIO_BLK_T_OUT: {
        const toMem = type === VIRTIO_BLK_T_IN;
        if (data.length === 0 || total % SECTOR || data.some((d) => ((d.flags & VIRTQ_DESC_F_WRITE) !== 0) !== toMem) ||
          sector + total / SECTOR > this.sectors) return finish(VIRTIO_BLK_S_IOERR, 0);
        let at = sector * SECTOR;
        if (toMem) {
          for (let k = 0; k < data.length; k++) {
            const buf = new Uint8Array(data[k].len);
            this.medium.read(at, buf, 0, buf.length);
            if (!this.wr(target(data[k], k), buf)) return finish(VIRTIO_BLK_S_IOERR, 0);
            at += buf.length;
          }
          return finish(VIRTIO_BLK_S_OK, total);
        }
        const bufs: Uint8Array[] = [];
        for (let k = 0; k < data.length; k++) {
          const b = this.rd(target(data[k], k), data[k].len);
          if (!b) return finish(VIRTIO_BLK_S_IOERR, 0);
          bufs.push(b);
        }
        for (const b of bufs) { this.medium.write(at, b, 0, b.length); at += b.length; }
        return finish(VIRTIO_BLK_S_OK, 0);
      }
      case VIRTIO_BLK_T_FLUSH:
        return finish(VIRTIO_BLK_S_OK, 0);
      case VIRTIO_BLK_T_GET_ID: {
        if (data.length !== 1 || !(data[0].flags & VIRTQ_DESC_F_WRITE)) return finish(VIRTIO_BLK_S_IOERR, 0);
        const id = new Uint8Array(Math.min(20, data[0].len));
        id.set(new TextEncoder().encode(`mktme-disk-${this.pci.dev}`).subarray(0, id.length));
        return this.wr(data[0].addr, id) ? finish(VIRTIO_BLK_S_OK, id.length) : finish(VIRTIO_BLK_S_IOERR, 0);
      }
      default:
        return finish(VIRTIO_BLK_S_UNSUPP, 0);
    }
  }
}
