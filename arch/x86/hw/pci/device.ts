/**
 * One PCI function's configuration space (PCI Local Bus 3.0 §6.1, type 0 header), as
 * a device presents it through ECAM: vendor/device ID, command/status, class code,
 * BARs with the sizing protocol (write all ones, read back ~(size-1) | flags),
 * subsystem IDs, interrupt pin. Memory decode and bus mastering follow the command
 * register: a BAR answers only with Memory Space enabled, DMA happens only with Bus
 * Master enabled.
 *
 *   0x00 vendor, device        0x04 command, status      0x08 revision, class code
 *   0x0c cache line, latency, header type, BIST          0x10..0x24 BAR0..5
 *   0x2c subsystem vendor, subsystem id                  0x3c interrupt line, pin
 */
import type { MmioRegion } from './mmio.js';

export const PCI_COMMAND_MEMORY = 0x2;
export const PCI_COMMAND_MASTER = 0x4;
const PCI_BAR0 = 0x10;
const CONFIG_BYTES = 4096; // ECAM gives every function 4 KiB; bytes past the header read 0

export interface PciIds {
  vendor: number;
  device: number;
  /** 24-bit class code: class << 16 | subclass << 8 | prog-if. */
  classCode: number;
  revision: number;
  subVendor: number;
  subDevice: number;
  /** 0 none, 1 INTA# .. 4 INTD#. */
  interruptPin: number;
}

/** A 32-bit non-prefetchable memory BAR and the registers behind it. */
export interface Bar { size: number; region: MmioRegion }

export class PciFunction {
  readonly config = new Uint8Array(CONFIG_BYTES);
  private readonly view = new DataView(this.config.buffer);
  /** Requester ID: bus << 8 | device << 3 | function (the source-id VT-d sees). */
  readonly sid: number;

  constructor(
    readonly bus: number,
    readonly dev: number,
    readonly fn: number,
    readonly ids: PciIds,
    readonly bars: Bar[] = [],
  ) {
    this.sid = (bus << 8) | (dev << 3) | fn;
    this.reset();
  }

  /** Power-on values: IDs, command 0, BARs 0. */
  reset(): void {
    this.config.fill(0);
    const v = this.view;
    v.setUint16(0x00, this.ids.vendor, true);
    v.setUint16(0x02, this.ids.device, true);
    v.setUint8(0x08, this.ids.revision);
    v.setUint8(0x09, this.ids.classCode & 0xff);
    v.setUint16(0x0a, this.ids.classCode >>> 8, true);
    v.setUint16(0x2c, this.ids.subVendor, true);
    v.setUint16(0x2e, this.ids.subDevice, true);
    v.setUint8(0x3d, this.ids.interruptPin);
    for (const b of this.bars) b.region.base = 0;
  }

  get command(): number { return this.view.getUint16(0x04, true); }
  get memoryEnabled(): boolean { return (this.command & PCI_COMMAND_MEMORY) !== 0; }
  get busMaster(): boolean { return (this.command & PCI_COMMAND_MASTER) !== 0; }

  readConfig32(off: number): number {
    if (off < 0 || off + 4 > CONFIG_BYTES || off % 4) return 0xffffffff;
    return this.view.getUint32(off, true);
  }

  /** A configuration write; read-only fields keep their values. */
  writeConfig32(off: number, value: number): void {
    value >>>= 0;
    if (off === 0x04) {
      // command (writable: memory, master) | status (RW1C bits, none set here)
      this.view.setUint16(0x04, value & (PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER), true);
    } else if (off >= PCI_BAR0 && off < PCI_BAR0 + 24) {
      const i = (off - PCI_BAR0) / 4;
      const bar = this.bars[i];
      if (!bar) return; // unimplemented BAR: hardwired to 0
      const base = (value & ~(bar.size - 1) & 0xfffffff0) >>> 0;
      this.view.setUint32(off, base, true); // type bits 0: 32-bit memory, not prefetchable
      bar.region.base = base;
    } else if (off === 0x3c) {
      this.config[0x3c] = value & 0xff; // interrupt line: scratch for software
    } else if (off === 0x0c) {
      this.config[0x0c] = value & 0xff; // cache line size
    }
  }

  /** The BAR's region when it decodes (memory enabled, programmed). */
  decodes(i: number): boolean {
    const b = this.bars[i];
    return !!b && this.memoryEnabled && b.region.base !== 0;
  }
}
