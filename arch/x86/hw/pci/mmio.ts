/**
 * The PCI hole's decoder: which device answers an uncached load or store to a physical
 * address in [3 GiB, 4 GiB). The BIOS makes that range uncacheable (its MTRRs mark
 * the hole UC on every board), so such accesses bypass the caches and the MKTME
 * engine and carry no KeyID: a KeyID-tagged address in the hole is not MMIO and still
 * raises #MC through the memory path.
 *
 * Only aligned 32-bit accesses (readl/writel) reach devices; a 64-bit register is two
 * of them, low half first (Linux's lo_hi_writeq). Anything else in the hole takes the
 * memory path and raises a machine check, as before.
 */
import { HOLE_END, HOLE_START } from '../memmap.js';

/** A device's register window. `off` is relative to `base`. */
export interface MmioRegion {
  readonly name: string;
  base: number;
  size: number;
  read32(off: number): number;
  write32(off: number, value: number): void;
}

/** Something that decodes addresses itself (the PCI host: ECAM and every BAR). */
export interface MmioDecoder {
  claim(pa: number): { region: MmioRegion; off: number } | null;
}

/** What a CPU needs: does MMIO answer here, and the uncached access itself. */
export interface MmioPort {
  claims(pa: number): boolean;
  read32(pa: number): number;
  write32(pa: number, value: number): void;
}

export class MmioBus implements MmioPort {
  private readonly decoders: MmioDecoder[] = [];
  /** Uncached accesses served (for `stat` and the bench). */
  accesses = 0;

  add(d: MmioDecoder): void { this.decoders.push(d); }

  private find(pa: number): { region: MmioRegion; off: number } | null {
    if (!(pa >= HOLE_START && pa < HOLE_END) || pa % 4 !== 0) return null;
    for (const d of this.decoders) {
      const hit = d.claim(pa);
      if (hit) return hit;
    }
    return null;
  }

  /**
   * claims()'s answer, for the access that follows it at the same address (a CPU asks,
   * then loads or stores): one decode per access. Only that next access uses it, so a
   * BAR that moves in between is decoded afresh.
   */
  private claimedPa = -1;
  private claimed: { region: MmioRegion; off: number } | null = null;

  claims(pa: number): boolean {
    if (!(pa >= HOLE_START && pa < HOLE_END)) return false;
    this.claimed = this.find(pa);
    this.claimedPa = this.claimed === null ? -1 : pa;
    return this.claimed !== null;
  }

  /** The region at `pa`: claims()'s answer if it was for `pa`, else a fresh decode. */
  private take(pa: number): { region: MmioRegion; off: number } | null {
    const hit = pa === this.claimedPa ? this.claimed : this.find(pa);
    this.claimedPa = -1;
    this.claimed = null;
    return hit;
  }

  read32(pa: number): number {
    const hit = this.take(pa);
    this.accesses++;
    return hit ? hit.region.read32(hit.off) >>> 0 : 0xffffffff;
  }

  write32(pa: number, value: number): void {
    const hit = this.take(pa);
    this.accesses++;
    if (hit) hit.region.write32(hit.off, value >>> 0);
  }
}

/** A fixed region (the IOMMU's register page) as a decoder. */
export function fixedRegion(r: MmioRegion): MmioDecoder {
  return { claim: (pa) => (pa >= r.base && pa < r.base + r.size ? { region: r, off: pa - r.base } : null) };
}
