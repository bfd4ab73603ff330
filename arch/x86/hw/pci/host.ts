/**
 * The PCI host bridge of the Q35-style board: segment 0, buses 0..255 behind an ECAM
 * window (PCI Express Base 4.0 §7.2.2, "Enhanced Configuration Access Mechanism"),
 * which the firmware describes to the kernel in an ACPI MCFG entry, and the decoder
 * for every function's memory BARs.
 *
 *   ECAM address = base + (bus << 20 | device << 15 | function << 12 | register)
 *
 * A configuration read of a function that does not exist returns all ones (a master
 * abort), which is how enumeration finds empty slots. Writes to it are dropped.
 */
import { PciFunction } from './device.js';
import type { MmioDecoder, MmioRegion } from './mmio.js';

export const ECAM_BASE = 0xe000_0000;
export const ECAM_BUSES = 256;
export const ECAM_SIZE = ECAM_BUSES << 20;
/** Where the BIOS starts placing BARs (QEMU's Q35 puts them near 0xfe000000). */
export const BAR_WINDOW_BASE = 0xfe00_0000;
export const BAR_WINDOW_END = 0xfed0_0000;

export class PciHost implements MmioDecoder {
  readonly functions: PciFunction[] = [];
  private readonly bySid = new Map<number, PciFunction>();
  private readonly ecam: MmioRegion;

  constructor() {
    this.ecam = {
      name: 'ecam', base: ECAM_BASE, size: ECAM_SIZE,
      read32: (off) => this.bySid.get(Math.floor(off / 4096))?.readConfig32(off % 4096) ?? 0xffffffff,
      write32: (off, v) => this.bySid.get(Math.floor(off / 4096))?.writeConfig32(off % 4096, v),
    };
  }

  plug(f: PciFunction): void {
    if (this.bySid.has(f.sid)) throw new Error(`PCI: slot ${f.sid.toString(16)} taken`);
    this.functions.push(f);
    this.bySid.set(f.sid, f);
  }

  function(sid: number): PciFunction | undefined { return this.bySid.get(sid); }

  claim(pa: number): { region: MmioRegion; off: number } | null {
    if (pa >= ECAM_BASE && pa < ECAM_BASE + ECAM_SIZE) return { region: this.ecam, off: pa - ECAM_BASE };
    for (const f of this.functions) {
      for (let i = 0; i < f.bars.length; i++) {
        const r = f.bars[i].region;
        if (pa >= r.base && pa < r.base + r.size && f.decodes(i)) return { region: r, off: pa - r.base };
      }
    }
    return null;
  }

  /** Reset every function (power-on). */
  reset(): void { for (const f of this.functions) f.reset(); }

  /**
   * The BIOS's resource assignment (SeaBIOS pci_setup): every BAR naturally aligned in
   * the BAR window, in slot order, and Memory Space enabled. Bus mastering is left
   * to the drivers (Linux pci_set_master).
   */
  assignResources(): void {
    let next = BAR_WINDOW_BASE;
    for (const f of this.functions) {
      f.bars.forEach((b, i) => {
        next = Math.ceil(next / b.size) * b.size;
        f.writeConfig32(0x10 + 4 * i, next);
        next += b.size;
      });
      if (f.bars.length) f.writeConfig32(0x04, 0x2);
    }
    if (next > BAR_WINDOW_END) throw new Error('PCI: BAR window exhausted');
  }
}
