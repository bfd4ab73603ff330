/**
 * The bookkeeping of a cache's fused page runs (cache.ts copyRun): the write-backs a run
 * defers, and the moves of its lines between the caller's buffer and the cache's data.
 * Both keep a memory controller's view of a stream: an older page evicted in order is one
 * run of adjacent data at adjacent addresses, and so is the new page going in.
 */
import { LINE } from './engine.js';
import type { MemorySystem } from './memsys.js';
import type { PackageCache } from './pkgcache.js';
import { copyLine32 } from './words.js';

const PAGE = 4096;

/**
 * Dirty victims waiting for the write-combining queue, in eviction order: each one's
 * package, data line (PackageCache.dataLine) and the decode its slot kept (KeyID,
 * KeyID-free address, memory range). The data stays in the slot until it is queued.
 */
export class PendingWriteBacks {
  n = 0;
  private readonly pkg: Int32Array;
  private readonly at: Int32Array;
  private readonly key: Int32Array;
  private readonly addr: Float64Array;
  private readonly ri: Int32Array;

  constructor(capacity: number) {
    this.pkg = new Int32Array(capacity);
    this.at = new Int32Array(capacity);
    this.key = new Int32Array(capacity);
    this.addr = new Float64Array(capacity);
    this.ri = new Int32Array(capacity);
  }

  push(pkg: number, at: number, keyid: number, addr: number, ri: number): void {
    const i = this.n++;
    this.pkg[i] = pkg; this.at[i] = at; this.key[i] = keyid; this.addr[i] = addr; this.ri[i] = ri;
  }

  /**
   * Queue them all, in order (MemorySystem.queueRun): adjacent data of adjacent lines of
   * one page, one package, KeyID and range as one run. Empty afterwards.
   */
  flush(mem: MemorySystem, caches: readonly PackageCache[]): void {
    const n = this.n;
    this.n = 0;
    const pkg = this.pkg, at = this.at, key = this.key, addr = this.addr, ri = this.ri;
    for (let i = 0; i < n;) {
      let j = i + 1;
      while (j < n && pkg[j] === pkg[i] && at[j] === at[j - 1] + 1 && key[j] === key[i] && ri[j] === ri[i] &&
        addr[j] === addr[j - 1] + LINE && ((addr[j] >>> 0) & (PAGE - 1)) !== 0) j++;
      mem.queueRun(key[i], addr[i], ri[i], j - i, caches[pkg[i]].data32, at[i] * (LINE / 4));
      i = j;
    }
  }
}

/**
 * Move lines 0..n-1 between buf32 (line k at word w + 16 k) and the cache's words (line k
 * at data line slots[k]): into the cache when writing or when the line was filled into
 * the buffer (filled[k]), else out of it. Runs of adjacent slots moving the same way are
 * one TypedArray copy, short ones word by word.
 */
export function copyRuns(slots: Int32Array, filled: Uint8Array, n: number, buf32: Int32Array, w: number,
  d32: Int32Array, write: boolean): void {
  for (let i = 0; i < n;) {
    const into = write || filled[i] !== 0;
    let j = i + 1;
    while (j < n && slots[j] === slots[j - 1] + 1 && (write || filled[j] === filled[i])) j++;
    if (j - i >= 4) { // a view and a native copy pay off over a few lines
      if (into) d32.set(buf32.subarray(w + 16 * i, w + 16 * j), slots[i] * 16);
      else buf32.set(d32.subarray(slots[i] * 16, slots[j - 1] * 16 + 16), w + 16 * i);
    } else {
      for (let k = i; k < j; k++) {
        if (into) copyLine32(buf32, w + 16 * k, d32, slots[k] * 16);
        else copyLine32(d32, slots[k] * 16, buf32, w + 16 * k);
      }
    }
    i = j;
  }
}
