/**
 * A per-CPU TLB: fully associative, `size` entries, round-robin replacement. It caches
 * 4 KiB translations (a 2 MiB or 1 GiB page is cached as the 4 KiB pieces touched,
 * each remembering its page size so INVLPG drops the whole page). Like the hardware's
 * (no PCID here), entries are tagged by linear page only: a CR3 write drops every
 * non-global entry, INVLPG one page. The physical address in an entry includes the
 * KeyID bits, exactly as the walk found them.
 */
export const TLB_USER = 1;
export const TLB_WRITE = 2;
export const TLB_NX = 4;
export const TLB_GLOBAL = 8;
export const TLB_DIRTY = 16;
/** EPT permissions of a combined (guest-linear to host-physical) translation. */
export const TLB_EPT_W = 32;
export const TLB_EPT_X = 64;
export const TLB_EPT_R = 128;

export class Tlb {
  private readonly vpn: Float64Array;
  private readonly pfnAddr: Float64Array;
  private readonly flags: Uint8Array;
  private readonly pageSize: Float64Array;
  private readonly index = new Map<number, number>();
  private next = 0;

  constructor(readonly size: number) {
    this.vpn = new Float64Array(size).fill(-1);
    this.pfnAddr = new Float64Array(size);
    this.flags = new Uint8Array(size);
    this.pageSize = new Float64Array(size);
  }

  /** Entry slot for linear page number `vpn` (va / 4096), or -1. */
  lookup(vpn: number): number {
    const s = this.index.get(vpn);
    return s === undefined ? -1 : s;
  }

  physPage(slot: number): number { return this.pfnAddr[slot]; }
  flagsOf(slot: number): number { return this.flags[slot]; }
  markDirty(slot: number): void { this.flags[slot] |= TLB_DIRTY; }

  insert(vpn: number, physPage: number, flags: number, pageSize: number): void {
    const old = this.index.get(vpn);
    const slot = old ?? this.next;
    if (old === undefined) {
      this.next = (this.next + 1) % this.size;
      if (this.vpn[slot] >= 0) this.index.delete(this.vpn[slot]);
    }
    this.vpn[slot] = vpn;
    this.pfnAddr[slot] = physPage;
    this.flags[slot] = flags;
    this.pageSize[slot] = pageSize;
    this.index.set(vpn, slot);
  }

  /** INVLPG: drop the entries of the page (of whatever size) containing `va`. */
  invalidatePage(va: number): void {
    for (let s = 0; s < this.size; s++) {
      if (this.vpn[s] < 0) continue;
      const ps = this.pageSize[s];
      const base = Math.floor((this.vpn[s] * 4096) / ps) * ps;
      if (va >= base && va < base + ps) this.drop(s);
    }
  }

  /** CR3 write: drop all but global entries (or everything). */
  flush(keepGlobal: boolean): void {
    for (let s = 0; s < this.size; s++) {
      if (this.vpn[s] >= 0 && !(keepGlobal && this.flags[s] & TLB_GLOBAL)) this.drop(s);
    }
  }

  private drop(s: number): void {
    this.index.delete(this.vpn[s]);
    this.vpn[s] = -1;
  }

  /** Valid entries (for tests and `stat`). */
  count(): number { return this.index.size; }
}
