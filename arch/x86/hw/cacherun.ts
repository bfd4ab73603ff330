/**
 * The bookkeeping of a cache's fused page runs (cache.ts copyRun): the write-backs a run
 * defers, and the moves of its lines between the caller's buffer and the cache's data.
 * Both keep a memory controller's view of a stream: an older page evicted in order is one
 * run of adjacent data at adjacent addresses, and so is the new page going in.
 */
import { LINE } from './engine.js';
import type { MemorySystem } from './memsys.js';
import type { GatherLines } from './cachewasm.js';
import type { KeptDecodes, PackageCache } from './pkgcache.js';
import { copyLine32 } from './words.js';

/**
 * Dirty victims of one package's cache waiting for the write-combining queue, in eviction
 * order: each victim's data (its slot's word offset in the cache's words, record()), and
 * runs of them at consecutive addresses of one page under one kept decode (push()): a
 * stream evicting an older page in order is one run, even where the page's lines sit in
 * different ways. The data stays in the slots until it is queued.
 */
export class PendingWriteBacks {
  /** The words of the cache the victims are in (begin()). */
  private data32: Int32Array = new Int32Array(0);
  /** Each victim's word offset in data32, in eviction order. */
  private readonly words: Int32Array;
  private readonly first: Int32Array;
  private readonly dec: Int32Array;
  private readonly addr: Float64Array;
  private readonly count: Int32Array;
  /** Runs held, then victims recorded (in an array: cachewasm.ts's loop records them too). */
  private readonly counts: Int32Array;

  /**
   * Over arrays of one capacity (pkgcache.ts places them in the cache's memory). A run's
   * lines are gathered into `gathered` (a page's words), so the queue takes each run as
   * one copy: by `gather` (cachewasm.ts) when there is WebAssembly, else word by word.
   */
  constructor(a: { words: Int32Array; first: Int32Array; dec: Int32Array; addr: Float64Array; count: Int32Array;
    counts: Int32Array }, private readonly gathered: Int32Array, private readonly gather: GatherLines | null) {
    this.words = a.words; this.first = a.first; this.dec = a.dec; this.addr = a.addr; this.count = a.count;
    this.counts = a.counts;
  }

  /** Start over, for victims of the cache whose words are `data32`. */
  begin(data32: Int32Array): void {
    this.counts[0] = 0;
    this.counts[1] = 0;
    this.data32 = data32;
  }

  /** A victim's data, at data line `at` of the cache. */
  record(at: number): void {
    this.words[this.counts[1]++] = at * (LINE / 4);
  }

  /** The last `n` victims recorded are a run: consecutive addresses from `addr` (in one page) under decode `dec`. */
  push(dec: number, addr: number, n: number): void {
    const i = this.counts[0]++;
    this.first[i] = this.counts[1] - n; this.dec[i] = dec; this.addr[i] = addr; this.count[i] = n;
  }

  /** Queue them all, in order, a run per MemorySystem.queueRun call. Empty afterwards. */
  flush(mem: MemorySystem, kd: KeptDecodes): void {
    const n = this.counts[0];
    this.counts[0] = 0;
    this.counts[1] = 0;
    const gather = this.gather, g32 = this.gathered, d32 = this.data32, words = this.words;
    for (let i = 0; i < n; i++) {
      const v = this.dec[i], first = this.first[i], m = this.count[i];
      if (m === 1) { mem.queueRun(kd.keyid[v], this.addr[i], kd.ri[v], 1, d32, words[first]); continue; }
      if (gather !== null) gather(first, m);
      else for (let k = 0; k < m; k++) copyLine32(d32, words[first + k], g32, k * (LINE / 4));
      mem.queueRun(kd.keyid[v], this.addr[i], kd.ri[v], m, g32, 0);
    }
  }
}

/**
 * Move lines 0..n-1 between buf32 (line k at word w + 16 k) and cache c's data (line k at
 * data line c.runSlots[k]): into the cache when writing or when the line was filled into
 * the buffer (c.runFilled[k]), else out of it. `into` / `out`: whether any line moves
 * that way. With WebAssembly the lines go through the cache's stage, one copy of the page
 * each way that is used and the moves in the routine (cachewasm.ts); without it runs of
 * adjacent slots moving the same way are one TypedArray copy, short ones word by word.
 */
export function copyRuns(c: PackageCache, n: number, buf32: Int32Array, w: number, write: boolean,
  into: boolean, out: boolean): void {
  const move = c.moveLines;
  if (move !== null) {
    if (into) c.stage32.set(buf32.subarray(w, w + 16 * n));
    move(n, write ? 1 : 0);
    if (out) buf32.set(c.stage32.subarray(0, 16 * n), w);
    return;
  }
  const slots = c.runSlots, filled = c.runFilled, d32 = c.data32;
  for (let i = 0; i < n;) {
    const toCache = write || filled[i] !== 0;
    let j = i + 1;
    while (j < n && slots[j] === slots[j - 1] + 1 && (write || filled[j] === filled[i])) j++;
    if (j - i >= 4) { // a view and a native copy pay off over a few lines
      if (toCache) d32.set(buf32.subarray(w + 16 * i, w + 16 * j), slots[i] * 16);
      else buf32.set(d32.subarray(slots[i] * 16, slots[j - 1] * 16 + 16), w + 16 * i);
    } else {
      for (let k = i; k < j; k++) {
        if (toCache) copyLine32(buf32, w + 16 * k, d32, slots[k] * 16);
        else copyLine32(d32, slots[k] * 16, buf32, w + 16 * k);
      }
    }
    i = j;
  }
}
