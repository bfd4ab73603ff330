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

import { PdeCache } from './psc.js';

/** Hash buckets of a TLB's index (a power of two). */
const BUCKETS = 256;

export class Tlb {
  private readonly vpn: Float64Array;
  private readonly pfnAddr: Float64Array;
  private readonly flags: Uint8Array;
  private readonly pageSize: Float64Array;
  /**
   * vpn -> slot, as chains per bucket of the page number's low bits in typed arrays (a
   * Map keyed by page numbers above 2^31 hashes a heap number on every lookup).
   */
  private readonly head = new Int16Array(BUCKETS).fill(-1);
  private readonly chain: Int16Array;
  private valid = 0;
  private next = 0;
  /** The PDE cache beside it (psc.ts): every invalidation here drops all of it. */
  readonly pde = new PdeCache();

  constructor(readonly size: number) {
    if (size > 0x7fff) throw new RangeError('Tlb: at most 32767 entries');
    this.vpn = new Float64Array(size).fill(-1);
    this.pfnAddr = new Float64Array(size);
    this.flags = new Uint8Array(size);
    this.pageSize = new Float64Array(size);
    this.chain = new Int16Array(size).fill(-1);
  }

  /** Entry slot for linear page number `vpn` (va / 4096), or -1. */
  lookup(vpn: number): number {
    const vpns = this.vpn, chain = this.chain;
    for (let s = this.head[(vpn >>> 0) & (BUCKETS - 1)]; s >= 0; s = chain[s]) if (vpns[s] === vpn) return s;
    return -1;
  }

  physPage(slot: number): number { return this.pfnAddr[slot]; }
  flagsOf(slot: number): number { return this.flags[slot]; }
  markDirty(slot: number): void { this.flags[slot] |= TLB_DIRTY; }

  insert(vpn: number, physPage: number, flags: number, pageSize: number): void {
    let slot = this.lookup(vpn);
    if (slot < 0) {
      slot = this.next;
      this.next = (this.next + 1) % this.size;
      if (this.vpn[slot] >= 0) this.drop(slot);
      const b = (vpn >>> 0) & (BUCKETS - 1);
      this.chain[slot] = this.head[b];
      this.head[b] = slot;
      this.vpn[slot] = vpn;
      this.valid++;
    }
    this.pfnAddr[slot] = physPage;
    this.flags[slot] = flags;
    this.pageSize[slot] = pageSize;
  }

  /** INVLPG: drop the entries of the page (of whatever size) containing `va`. */
  invalidatePage(va: number): void {
    this.pde.clear();
    for (let s = 0; s < this.size; s++) {
      if (this.vpn[s] < 0) continue;
      const ps = this.pageSize[s];
      const base = Math.floor((this.vpn[s] * 4096) / ps) * ps;
      if (va >= base && va < base + ps) this.drop(s);
    }
  }

  /** CR3 write: drop all but global entries (or everything). */
  flush(keepGlobal: boolean): void {
    this.pde.clear();
    for (let s = 0; s < this.size; s++) {
      if (this.vpn[s] >= 0 && !(keepGlobal && this.flags[s] & TLB_GLOBAL)) this.drop(s);
    }
  }

  private drop(s: number): void {
    const b = (this.vpn[s] >>> 0) & (BUCKETS - 1);
    if (this.head[b] === s) this.head[b] = this.chain[s];
    else {
      let p = this.head[b];
      while (this.chain[p] !== s) p = this.chain[p];
      this.chain[p] = this.chain[s];
    }
    this.chain[s] = -1;
    this.vpn[s] = -1;
    this.valid--;
  }

  /** Valid entries (for tests and `stat`). */
  count(): number { return this.valid; }
}
