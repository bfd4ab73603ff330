/**
 * The uncore below the caches: address decode, the memory controllers and their
 * engines, and the DIMMs. A line travelling between a cache and memory is split into
 * KeyID and address by the requesting package's view (its IA32_TME_ACTIVATE KeyID
 * bits), routed to the home node's memory controller, and encrypted or decrypted
 * there by that package's engine. The KeyID never reaches the DIMMs.
 *
 * An address in no range (a hole) raises a machine check.
 *
 * Where hardware moves runs of lines, so does this model (`batched`, on by default):
 * - Write-combining queue: each memory controller queues written-back lines (already
 *   decoded, so the KeyID is the writer's) and drains them in batches of up to 1024, the
 *   runs sharing a cipher one call into the line cipher, in its batch area (mcbuffers.ts
 *   drainQueue). WBINVD, a CLFLUSH loop over a range and a stream of evictions all pass
 *   through it.
 * - Stream prefetcher: a fill that follows a fill of the line before it (same package,
 *   same KeyID) reads the rest of its 4 KiB page from the DIMM and decrypts it in one
 *   call; the following fills are served from that buffer. (Hardware L2 streamers do not
 *   cross 4 KiB pages: Intel 64 and IA-32 Architectures Optimization Reference Manual,
 *   "Data Prefetch to the L2 and Last Level Cache".) Once a stream has consumed a whole
 *   prefetch, the host-side batch reaches up to fifteen pages further (1024 lines, the
 *   line cipher's batch): physically adjacent pages are common in a stream, and
 *   node:crypto's ECB runs at about twice the rate in 64 KiB calls as in 16 KiB ones. A
 *   fill of a page's first line right after a fill of another page's last line (a buffer
 *   contiguous in virtual memory over scattered frames) fetches its page whole as well.
 *   That is bookkeeping only: virtual time charges each fill by the sequential rule of
 *   timing.ts whether or not a buffer served it, so nothing observable depends on it.
 * Both are invisible. The queue drains before anything could see the DIMM without it: a
 * fill of a queued address, the physical probe, an engine change (PCONFIG, activation,
 * the exclusion range, reset: cold boot and S3 included), host-side reads of the stores.
 * A prefetched line is dropped when its DIMM bytes change (or would: a write-back queued
 * for it) and on any engine change, so it always equals what a fill would decrypt now.
 * Counters and virtual time (timing.ts) are charged per line when the per-line model
 * would charge them, so `batched = false` (the per-line path, for the differential test) gives the
 * same DIMM bytes, counters and clock.
 *
 * The caches' write-backs and fused runs (cache.ts) call queueRun() and fillRun() with the
 * decode each cache slot kept from its fill; readLine() and writeLine() decode for
 * themselves.
 */
import { Fault, X86_TRAP_MC } from './isa.js';
import type { Clock } from './clock.js';
import { transferCycles } from './timing.js';
import { LINE } from './engine.js';
import type { XtsCipher } from './crypto/xts.js';
import type { Package } from './package.js';
import type { SparseMemory } from './dram.js';
import type { PhysRange } from './memmap.js';
import { copyLine32, WordViews } from './words.js';
import { drainQueue, PAGE_LINES, prefetchInto, QUEUE_LINES, STREAM_LINES, StreamBuffer, WriteQueue } from './mcbuffers.js';

const PAGE = 4096;

export interface Decoded {
  keyid: number;
  /** Address with the KeyID bits cleared. */
  addr: number;
  range: PhysRange;
  store: SparseMemory;
  /** The range's index in MemorySystem.ranges/stores. */
  ri: number;
}

export class MemorySystem {
  /** Move runs of lines in batches (see the header); false: strictly one line at a time. */
  batched = true;
  private readonly scratch = new Uint8Array(LINE);
  private readonly scratchOut = new Uint8Array(LINE);
  private readonly scratch32 = new Int32Array(this.scratchOut.buffer);
  private readonly queues: WriteQueue[];
  private readonly streams: StreamBuffer[];
  private readonly srcWords = new WordViews();
  private lastRange = 0;
  private readonly keyOut = new Int32Array(1);
  private readonly decoded: Decoded;
  private readonly decoded2: Decoded;
  /** Each package's last fill (KeyID-free address and KeyID), to see a sequential stream. */
  private readonly lastFill: Float64Array;
  private readonly lastFillKey: Int32Array;

  constructor(
    readonly ranges: PhysRange[],
    readonly stores: SparseMemory[],
    private readonly pkgs: Package[],
    private readonly clock: Clock,
  ) {
    for (const r of ranges) {
      // copyRun (cache.ts) decodes a page once: no range may start or end inside a page.
      if (r.base % PAGE !== 0 || r.size % PAGE !== 0) throw new Error('memsys: memory ranges must be 4 KiB-aligned');
    }
    this.decoded = { keyid: 0, addr: 0, range: ranges[0], store: stores[0], ri: 0 };
    this.decoded2 = { keyid: 0, addr: 0, range: ranges[0], store: stores[0], ri: 0 };
    this.queues = pkgs.map(() => new WriteQueue());
    this.streams = pkgs.map(() => new StreamBuffer());
    this.lastFill = new Float64Array(pkgs.length).fill(-1);
    this.lastFillKey = new Int32Array(pkgs.length).fill(-1);
    for (const p of pkgs) p.engine.onChange(() => { this.quiesce(); this.cPage = -1; });
  }

  /**
   * Split and route `pa` as package `reqPkg` sees it; #MC for a hole. The answer is one
   * reused object (a miss decodes once, and nothing between its decode and its fill
   * decodes again: write-backs route themselves), valid until the next call.
   */
  decode(reqPkg: number, pa: number): Decoded {
    const addr = this.pkgs[reqPkg].engine.splitKeyId(pa, this.keyOut);
    const keyid = this.keyOut[0];
    const i = this.rangeIndex(addr);
    if (i < 0) throw new Fault(X86_TRAP_MC, 0, pa, 'no memory at this physical address');
    const d = this.decoded;
    d.keyid = keyid; d.addr = addr; d.range = this.ranges[i]; d.store = this.stores[i]; d.ri = i;
    return d;
  }

  /**
   * The KeyID bits package `pkg` splits addresses with: decode(pkg, pa) depends on
   * nothing else (the ranges are fixed), so a decode kept while they are unchanged is
   * still the decode.
   */
  splitBits(pkg: number): number { return this.pkgs[pkg].engine.keyIdBits; }

  /** decode() without the #MC, into its own reused object: null for a hole. */
  decodeOrNull(reqPkg: number, pa: number): Decoded | null {
    const addr = this.pkgs[reqPkg].engine.splitKeyId(pa, this.keyOut);
    const i = this.rangeIndex(addr);
    if (i < 0) return null;
    const d = this.decoded2;
    d.keyid = this.keyOut[0]; d.addr = addr; d.range = this.ranges[i]; d.store = this.stores[i]; d.ri = i;
    return d;
  }

  /** The range holding KeyID-free `addr`, or -1 (the last hit is tried first). */
  private rangeIndex(addr: number): number {
    const last = this.ranges[this.lastRange];
    if (addr >= last.base && addr < last.base + last.size) return this.lastRange;
    for (let i = 0; i < this.ranges.length; i++) {
      const r = this.ranges[i];
      if (addr >= r.base && addr < r.base + r.size) return (this.lastRange = i);
    }
    return -1;
  }

  /** Fill for package `reqPkg`: read the decoded line (line-aligned) from memory, decrypting it. */
  readLine(reqPkg: number, d: Decoded, dst: Uint8Array, dstOff: number): void {
    if (this.batched) {
      const at = dst.byteOffset + dstOff;
      if ((at & 3) === 0) this.fill(reqPkg, d.keyid, d.addr, d.ri, this.srcWords.of(dst), at >>> 2);
      else { this.fill(reqPkg, d.keyid, d.addr, d.ri, this.scratch32, 0); dst.set(this.scratchOut, dstOff); }
      return;
    }
    this.fillTick(reqPkg, d.keyid, d.addr, d.range.node);
    d.store.read(d.addr - d.range.base, this.scratch, 0, LINE);
    this.pkgs[d.range.node].engine.decrypt(d.keyid, d.addr, this.scratch, 0, dst, dstOff);
  }

  /**
   * A fill's virtual time. Returns whether it continues a stream: a fill right after the
   * line before it (same package, same KeyID).
   */
  private fillTick(reqPkg: number, keyid: number, addr: number, node: number): boolean {
    const sequential = addr === this.lastFill[reqPkg] + LINE && keyid === this.lastFillKey[reqPkg];
    this.lastFill[reqPkg] = addr;
    this.lastFillKey[reqPkg] = keyid;
    this.clock.tick(transferCycles(this.cipherOf(node, keyid, addr) !== null, sequential));
    return sequential;
  }

  /**
   * engines[node].lineCipher(keyid, addr), remembered for the last page asked about: the
   * lines of a 4 KiB page share their cipher (the exclusion range has 4 KiB granularity),
   * and any engine change forgets it (cPage = -1, in the change hook).
   */
  private cipherOf(node: number, keyid: number, addr: number): XtsCipher | null {
    const page = Math.floor(addr / PAGE);
    if (page !== this.cPage || keyid !== this.cKey || node !== this.cNode) {
      this.cCipher = this.pkgs[node].engine.lineCipher(keyid, addr);
      this.cPage = page; this.cKey = keyid; this.cNode = node;
    }
    return this.cCipher;
  }
  private cPage = -1;
  private cKey = -1;
  private cNode = -1;
  private cCipher: XtsCipher | null = null;

  /**
   * The batched fill (readLine's, and the caches' fused runs): line `addr` (KeyID-free,
   * in range `ri`) under `keyid`, decrypted into dst32 at word `w`.
   */
  fill(reqPkg: number, keyid: number, addr: number, ri: number, dst32: Int32Array, w: number): void {
    const range = this.ranges[ri], store = this.stores[ri];
    const node = range.node;
    const eng = this.pkgs[node].engine;
    const prev = this.lastFill[reqPkg], prevKey = this.lastFillKey[reqPkg];
    const sequential = this.fillTick(reqPkg, keyid, addr, node);
    const q = this.queues[node];
    if (q.n !== 0 && q.holds(addr, LINE)) this.drain(node); // read after write: the DIMM must have it
    const s = this.streams[reqPkg];
    if (s.n !== 0 && s.keyid === keyid && s.node === node && addr >= s.base && addr < s.base + s.n * LINE) {
      const i = (addr - s.base) / LINE;
      if (s.live[i]) {
        s.live[i] = 0;
        copyLine32(s.data32, i * (LINE / 4), dst32, w);
        eng.countDecrypted(keyid);
        return;
      }
    }
    const inPage = ((addr >>> 0) & (PAGE - 1)) / LINE;
    // Host side only: a fill of a page's first line right after one of another page's last
    // line, same KeyID, is a stream that went on in a frame elsewhere (a process's
    // contiguous buffer over scattered frames); it fetches its page whole too.
    const pageJump = !sequential && inPage === 0 && keyid === prevKey && prev >= 0 &&
      ((prev >>> 0) & (PAGE - 1)) === PAGE - LINE;
    if (sequential || pageJump) {
      // The rest of the 4 KiB page, within the range: fetched and decrypted in one call;
      // and, host side only, once the stream has run past a whole prefetch (this fill is
      // the line after the last one's end), the following pages too (see the header),
      // unless their frames would be read from a host file on first touch (framesInUse
      // would see it). A short sequential pair (a page walk, a small copy) pays for one
      // page at most.
      const streaming = addr === s.end && keyid === s.keyid && node === s.node;
      const ahead = store.fileBacked || !streaming ? 0 : STREAM_LINES - PAGE_LINES;
      const n = Math.min(PAGE_LINES - inPage + ahead, (range.base + range.size - addr) / LINE);
      if (n > 1) {
        if (q.n !== 0 && q.holds(addr, n * LINE)) this.drain(node);
        prefetchInto(s, eng, keyid, addr, n, store, addr - range.base);
        s.n = n; s.base = addr; s.keyid = keyid; s.node = node; s.end = addr + n * LINE;
        s.live.fill(1, 1, n);
        s.live[0] = 0;
        copyLine32(s.data32, 0, dst32, w);
        eng.countDecrypted(keyid);
        return;
      }
    }
    store.read(addr - range.base, this.scratch, 0, LINE);
    eng.decrypt(keyid, addr, this.scratch, 0, this.scratchOut, 0);
    copyLine32(this.scratch32, 0, dst32, w);
  }

  /** Write-back: encrypt the line and store it in memory (through the queue when batched). */
  writeLine(reqPkg: number, pa: number, src: Uint8Array, srcOff: number): void {
    const addr = this.pkgs[reqPkg].engine.splitKeyId(pa, this.keyOut);
    const keyid = this.keyOut[0];
    const ri = this.rangeIndex(addr);
    if (ri < 0) throw new Fault(X86_TRAP_MC, 0, pa, 'no memory at this physical address');
    if (this.batched) {
      const at = src.byteOffset + srcOff;
      if ((at & 3) === 0) this.queueRun(keyid, addr, ri, 1, this.srcWords.of(src), at >>> 2);
      else { this.scratchOut.set(src.subarray(srcOff, srcOff + LINE)); this.queueRun(keyid, addr, ri, 1, this.scratch32, 0); }
      return;
    }
    const range = this.ranges[ri];
    const eng = this.pkgs[range.node].engine;
    this.clock.tick(transferCycles(eng.lineCipher(keyid, addr) !== null, false));
    eng.encrypt(keyid, addr, src, srcOff, this.scratch, 0);
    this.stores[ri].write(addr - range.base, this.scratch, 0, LINE);
  }

  /**
   * The batched write-back (writeLine's, and the caches' with the decode they kept): `n`
   * lines into their controller's write-combining queue, consecutive addresses from
   * `addr` (KeyID-free, in range `ri`, all in one 4 KiB page) under `keyid`, their
   * plaintext at src32 words w.. (a cache gathers a run's victims first: cacherun.ts).
   * Charged and counted line by line as the per-line model does; one cipher lookup and
   * one clock charge per part that fits the queue.
   */
  queueRun(keyid: number, addr: number, ri: number, n: number, src32: Int32Array, w: number): void {
    const node = this.ranges[ri].node;
    const cipher = this.cipherOf(node, keyid, addr);
    this.clock.tick(n * transferCycles(cipher !== null, false));
    this.dropStreams(node, addr, n * LINE);
    const q = this.queues[node];
    for (let done = 0; done < n;) {
      const m = Math.min(n - done, QUEUE_LINES - q.n);
      q.append(cipher, addr + done * LINE, ri, m, src32, w + done * (LINE / 4));
      this.pkgs[node].engine.countEncrypted(keyid, m);
      done += m;
      if (q.n === QUEUE_LINES) this.drain(node);
    }
  }

  /**
   * `n` fills as n fill() calls in address order would do them: consecutive lines from
   * `addr` (KeyID-free, in range `ri`, all in one 4 KiB page) under `keyid`, into dst32 at
   * word `w` on. Lines the package's stream buffer holds, following a fill of the line
   * before, move as one copy with one clock charge (timing.ts's sequential rate for each).
   */
  fillRun(reqPkg: number, keyid: number, addr: number, ri: number, n: number, dst32: Int32Array, w: number): void {
    const node = this.ranges[ri].node;
    const s = this.streams[reqPkg], q = this.queues[node];
    for (let i = 0; i < n;) {
      const a = addr + i * LINE;
      let m = 0;
      if (s.n !== 0 && s.keyid === keyid && s.node === node && a >= s.base && a < s.base + s.n * LINE &&
        a === this.lastFill[reqPkg] + LINE && keyid === this.lastFillKey[reqPkg]) {
        const j = (a - s.base) / LINE;
        while (i + m < n && j + m < s.n && s.live[j + m] !== 0) m++;
        if (m > 0 && q.n !== 0 && q.holds(a, m * LINE)) m = 0; // fill() drains first: take that path
        if (m > 0) {
          this.clock.tick(m * transferCycles(this.cipherOf(node, keyid, a) !== null, true));
          this.lastFill[reqPkg] = a + (m - 1) * LINE;
          s.live.fill(0, j, j + m);
          dst32.set(s.data32.subarray(j * (LINE / 4), (j + m) * (LINE / 4)), w + i * (LINE / 4));
          this.pkgs[node].engine.countDecrypted(keyid, m);
        }
      }
      if (m === 0) { this.fill(reqPkg, keyid, a, ri, dst32, w + i * (LINE / 4)); m = 1; }
      i += m;
    }
  }

  /** Drain node `node`'s queue: encrypt its lines in runs, store them in arrival order. */
  private drain(node: number): void {
    const q = this.queues[node];
    const runs = q.runs;
    if (q.n === 0) return;
    q.reset();
    drainQueue(q, runs, this.stores, this.ranges);
  }

  /** Drop prefetched lines of node `node` in [addr, addr+len): their DIMM bytes change. */
  private dropStreams(node: number, addr: number, len: number): void {
    for (let p = 0; p < this.streams.length; p++) {
      const s = this.streams[p];
      if (s.n !== 0 && s.node === node && addr < s.base + s.n * LINE && addr + len > s.base) s.n = 0;
    }
  }

  /**
   * Make the DIMMs hold exactly what per-line transfers would have put there, and forget
   * every prefetched line: before the physical probe looks, before an engine change,
   * before host code reads the stores.
   */
  quiesce(): void {
    for (let node = 0; node < this.queues.length; node++) this.drain(node);
    for (const s of this.streams) s.n = 0;
  }

  /** The raw store and offset behind a KeyID-free address, for the physical probe. */
  raw(addr: number): { store: SparseMemory; off: number; left: number } | null {
    this.quiesce();
    for (let i = 0; i < this.ranges.length; i++) {
      const r = this.ranges[i];
      if (addr >= r.base && addr < r.base + r.size) {
        return { store: this.stores[i], off: addr - r.base, left: r.base + r.size - addr };
      }
    }
    return null;
  }
}
