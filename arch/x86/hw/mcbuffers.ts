/**
 * A memory controller's two host-side buffers (memsys.ts has the rules that keep them
 * invisible): the write-combining queue of written-back lines waiting to be encrypted and
 * stored, and each package's stream-prefetch buffer of lines fetched and decrypted ahead.
 */
import type { XtsCipher } from './crypto/xts.js';
import type { SparseMemory } from './dram.js';
import { LINE, type MktmeEngine } from './engine.js';
import { LineSet, LINESET_MAX } from './lineset.js';
import type { PhysRange } from './memmap.js';
import { copyLine32 } from './words.js';

/** Lines a write-combining queue holds before it drains (the line cipher's batch, xts-wasm.ts). */
export const QUEUE_LINES = 1024;
if (QUEUE_LINES > LINESET_MAX) throw new Error('mcbuffers: queue larger than its LineSet'); // a page a line at most
const PAGE = 4096;
export const PAGE_LINES = PAGE / LINE;
/** Lines one prefetch decrypts at most: the rest of a page and up to fifteen pages after it. */
export const STREAM_LINES = 16 * PAGE_LINES;

/**
 * One memory controller's write-combining queue (plaintext, decoded, in arrival order):
 * each line's address and data, and runs of lines at consecutive addresses of one page
 * under one cipher in one memory range (a queueRun's, lengthened by the next where it
 * continues it).
 */
export class WriteQueue {
  /** Lines held. */
  n = 0;
  readonly data = new Uint8Array(QUEUE_LINES * LINE);
  /** Runs held; run r is lines runFirst[r] .. runFirst[r] + runCount[r] - 1, at addresses runAddr[r] on. */
  runs = 0;
  readonly runFirst = new Int32Array(QUEUE_LINES);
  readonly runAddr = new Float64Array(QUEUE_LINES);
  readonly runCount = new Int32Array(QUEUE_LINES);
  /** Each run's cipher, looked up when it was queued (null: plaintext). */
  readonly runCipher: (XtsCipher | null)[] = new Array(QUEUE_LINES).fill(null);
  /** Each run's memory range (an index into MemorySystem.ranges/stores). */
  readonly runRange = new Int32Array(QUEUE_LINES);
  readonly data32 = new Int32Array(this.data.buffer);
  /** Lowest and highest queued address, for a quick "not here" on fills. */
  lo = Infinity;
  hi = -Infinity;

  /** The queued addresses, for the one-line question every fill asks. */
  readonly set = new LineSet();

  /**
   * Queue `m` lines (m fits): consecutive addresses from `addr`, all in one 4 KiB page,
   * each under `cipher` and in range `ri`, their plaintext at src32 words w.. (one copy).
   */
  append(cipher: XtsCipher | null, addr: number, ri: number, m: number, src32: Int32Array, w: number): void {
    const i0 = this.n, d32 = this.data32;
    const r = this.runs - 1;
    if (r >= 0 && this.runCipher[r] === cipher && this.runRange[r] === ri &&
      addr === this.runAddr[r] + this.runCount[r] * LINE && ((addr >>> 0) & (PAGE - 1)) !== 0) {
      this.runCount[r] += m;
    } else {
      this.runFirst[r + 1] = i0; this.runAddr[r + 1] = addr; this.runCount[r + 1] = m;
      this.runCipher[r + 1] = cipher; this.runRange[r + 1] = ri;
      this.runs = r + 2;
    }
    this.set.addRun(addr, m);
    if (m === 1) copyLine32(src32, w, d32, i0 * (LINE / 4)); // a view costs more than a line's 16 words
    else d32.set(src32.subarray(w, w + m * (LINE / 4)), i0 * (LINE / 4));
    this.n += m;
    if (addr < this.lo) this.lo = addr;
    if (addr + (m - 1) * LINE > this.hi) this.hi = addr + (m - 1) * LINE;
  }

  /** Empty (as a drain takes the lines; it lets the runs' ciphers go when done). */
  reset(): void {
    this.runs = 0;
    this.n = 0;
    this.set.clear();
    this.lo = Infinity;
    this.hi = -Infinity;
  }

  holds(addr: number, len: number): boolean {
    if (this.n === 0 || addr + len <= this.lo || addr > this.hi) return false;
    return len === LINE ? this.set.has(addr) : this.set.hasRange(addr, len);
  }
}

/** One package's stream prefetcher: the run it last fetched, decrypted. */
export class StreamBuffer {
  /** Lines held (0: empty); line i is at base + 64 i, valid while live[i]. */
  n = 0;
  base = 0;
  keyid = 0;
  node = 0;
  /** Where the last prefetch ended (kept when the buffer is dropped): a fill here continues the stream. */
  end = -1;
  readonly live = new Uint8Array(STREAM_LINES);
  readonly data = new Uint8Array(STREAM_LINES * LINE);
  readonly data32 = new Int32Array(this.data.buffer);
}

/**
 * The queue's drain, after q.reset() (`runs`: the runs it held): adjacent runs that share
 * a cipher are encrypted in one call, in that cipher's batch area (XtsCipher.batchArea:
 * the lines are copied in once and stored from there), and every run is stored in arrival
 * order, in `stores[q.runRange[r]]` at its offset in `ranges[q.runRange[r]]`. A plaintext
 * run is stored straight from the queue.
 */
export function drainQueue(q: WriteQueue, runs: number, stores: readonly SparseMemory[], ranges: readonly PhysRange[]): void {
  for (let r = 0; r < runs;) {
    const c = q.runCipher[r];
    let e = r + 1;
    while (e < runs && q.runCipher[e] === c) e++;
    const i0 = q.runFirst[r], n = q.runFirst[e - 1] + q.runCount[e - 1] - i0;
    let out: Uint8Array = q.data, out32: Int32Array = q.data32, shift = 0; // run t's lines are at line runFirst[t] - shift of out
    if (c !== null) {
      out = c.batchArea();
      out.set(q.data.subarray(i0 * LINE, (i0 + n) * LINE));
      c.encryptRuns(q.runAddr, q.runCount, r, e - r, out, 0, out, 0);
      out32 = new Int32Array(out.buffer, out.byteOffset, n * (LINE / 4));
      shift = i0;
    }
    for (let t = r; t < e; t++) {
      const ri = q.runRange[t], li = q.runFirst[t] - shift, m = q.runCount[t];
      const store = stores[ri];
      const off = q.runAddr[t] - ranges[ri].base;
      if (m >= 4 || store.fileBacked) store.write(off, out, li * LINE, m * LINE);
      else for (let k = 0; k < m; k++) store.writeLine32(off + k * LINE, out32, (li + k) * (LINE / 4));
    }
    r = e;
  }
  q.runCipher.fill(null, 0, runs);
}

/** prefetchInto's one run (XtsCipher's runs API). */
const oneStart = new Float64Array(1);
const oneCount = new Int32Array(1);

/**
 * A prefetch: `n` lines at consecutive addresses from `addr` under `keyid`, their DIMM
 * bytes at `store` offset `off` on, decrypted into s.data (s's bookkeeping is the
 * caller's). The exclusion range has 4 KiB granularity (msr.ts hands the engine address
 * bits 12 and up only), so the lines of one page share a cipher: pages that share one are
 * read into its batch area and decrypted there in one call, then copied to s.data;
 * plaintext pages are read straight into s.data. Not counted here: the memory system
 * counts each line when the per-line model would.
 */
export function prefetchInto(s: StreamBuffer, eng: MktmeEngine, keyid: number, addr: number, n: number,
  store: SparseMemory, off: number): void {
  let i = 0;
  while (i < n) {
    const a = addr + i * LINE;
    const c = eng.lineCipher(keyid, a);
    let j = Math.min(n, i + (PAGE - ((a >>> 0) & (PAGE - 1))) / LINE); // the rest of this page
    while (j < n && eng.lineCipher(keyid, addr + j * LINE) === c) j = Math.min(n, j + PAGE_LINES);
    if (c === null) store.read(off + i * LINE, s.data, i * LINE, (j - i) * LINE);
    else {
      const area = c.batchArea(), most = area.length / LINE;
      for (let k = i; k < j; k += most) { // n never exceeds a batch (STREAM_LINES); a split keeps any n right
        const m = Math.min(most, j - k);
        store.read(off + k * LINE, area, 0, m * LINE);
        oneStart[0] = addr + k * LINE; oneCount[0] = m;
        c.decryptRuns(oneStart, oneCount, 0, 1, area, 0, area, 0);
        s.data.set(area.subarray(0, m * LINE), k * LINE);
      }
    }
    i = j;
  }
}
