/**
 * The caches' block moves: what a CPU's string copy (X86Cpu physCopy) and a device's
 * coherent DMA (pci/dma.ts) do, over the line-by-line caches of linecache.ts (which
 * has the model: tags with the KeyID, LRU replacement, snooping, write-back). With
 * the memory system batching, the whole lines of each page move as one fused run
 * (copyRun) with the same DIMM bytes, counters and clock as line by line.
 */
import { COST } from './clock.js';
import { LINE } from './engine.js';
import { LineCaches } from './linecache.js';
import { INVALID, PackageCache, bucket } from './pkgcache.js';
import { copyRuns } from './cacherun.js';
import { ST } from './cachewasm.js';
import { copyLine32, WordViews } from './words.js';

const PAGE = 4096;

export class CacheSystem extends LineCaches {
  /**
   * Move `len` bytes between buf[bufOff..] and physical memory from `pa` (KeyID included)
   * through package `pkg`'s cache: what a CPU's block move (X86Cpu physCopy) and a
   * device's coherent DMA (pci/dma.ts) do. Line by line (line()), whole lines as 16 words
   * when the buffer is 4-byte aligned, and, when the memory system batches, the whole
   * lines of each page as one fused run (copyRun). Raises #MC for a hole (the lines before
   * it have moved).
   */
  copy(pkg: number, pa: number, buf: Uint8Array, bufOff: number, len: number, write: boolean): void {
    const data = this.caches[pkg].data, d32 = this.caches[pkg].data32;
    const at0 = buf.byteOffset + bufOff;
    const b32 = (at0 & 3) === 0 && len >= 4 * LINE ? this.bufWords.of(buf) : null; // a view pays off over a few lines
    const fused = b32 !== null && this.mem.batched;
    // pa % LINE without a floating-point remainder (pa exceeds 32 bits under a KeyID;
    // ToUint32 keeps it mod 2^32, a multiple of 64); every later piece starts a line.
    let inLine = (pa >>> 0) & (LINE - 1);
    let done = 0;
    while (done < len) {
      const at = pa + done;
      if (fused && inLine === 0 && len - done >= LINE) {
        // Whole lines up to the page's end (the page offset from the low word, exact).
        const lines = Math.min((len - done) >>> 6, (PAGE - ((at >>> 0) & (PAGE - 1))) >>> 6);
        this.copyRun(pkg, at, lines, b32!, (at0 + done) >>> 2, write);
        done += lines * LINE;
        continue;
      }
      const n = Math.min(len - done, LINE - inLine);
      const off = this.line(pkg, at - inLine, write, write && n === LINE) + inLine;
      if (n === LINE && b32 !== null) {
        if (write) copyLine32(b32, (at0 + done) >>> 2, d32, off >>> 2);
        else copyLine32(d32, off >>> 2, b32, (at0 + done) >>> 2);
      } else if (write) data.set(buf.subarray(bufOff + done, bufOff + done + n), off);
      else buf.set(data.subarray(off, off + n), bufOff + done);
      done += n;
      inLine = 0;
    }
  }
  private readonly bufWords = new WordViews();

  /**
   * copy()'s whole lines when the memory system batches: `n` lines from line-aligned
   * `pa`, all in one 4 KiB page, to (write) or from buf32 at word `w`. The same DIMM
   * bytes, loads, counters and clock as n calls of line() with a 16-word copy after each
   * (the batch test compares the two); only the host work is reshaped, as a memory
   * controller sees a stream:
   * - the page is decoded once, at its first miss (memory ranges are 4 KiB-aligned, so
   *   its lines share KeyID, range and hole-ness), and each slot keeps its decode for its
   *   write-back;
   * - a pass over the lines does the lookups, victims and installs (for a page no cache
   *   holds a line of, in WebAssembly: cachewasm.ts, the same choices); the dirty victims'
   *   write-backs wait in `pending` and go to the queue in runs (a stream evicts an older
   *   page in order, one way of consecutive sets: adjacent data, adjacent addresses);
   * - then the fills, in address order, straight into the buffer, in runs from the stream
   *   prefetcher (memsys.ts fillRun); then the copies between buffer and cache, in runs.
   * Deferring is exact when the n lines fall in n different sets and a set is chosen by
   * KeyID-free address bits (a power-of-two set count): no line of the run then evicts,
   * fills or writes back a slot another line took, and no deferred write-back is of an
   * address a fill of the run reads (its victim would share the fill's set). A snoop that
   * finds the line in another cache writes the pending write-backs first, then snoops as
   * line() does. Other geometries take line() line by line.
   */
  copyRun(pkg: number, pa: number, n: number, buf32: Int32Array, w: number, write: boolean): void {
    const c = this.caches[pkg];
    if (c.sets < n || !c.pow2) { this.copyLines(pkg, pa, n, buf32, w, write); return; }
    const tags = c.tags, dirty = c.dirty, present = c.present, ways = c.ways, sets = c.sets;
    const lru = c.lru;
    const dec = c.dec, kd = this.decodes;
    const slots = c.runSlots, filled = c.runFilled;
    const bits = this.mem.splitBits(pkg);
    const line0 = pa / LINE;
    const set0 = c.setIndex(line0); // later lines: the sets after it (pow2: mod sets)
    // The page's presence bucket, read before the run's own installs: if no line of it is
    // held here, no line of the run needs a tag lookup; if no other package holds one, none
    // needs a snoop or an invalidation (the run only ever drops lines in other caches).
    const pb = bucket(line0);
    const look = present[pb] !== 0, others = this.heldBucketElsewhere(pkg, pb);
    let daddr = 0, dri = -1, did = -1; // the page's decode (address of its line 0; its KeptDecodes index)
    let okDec = -1; // a kept decode a victim here was queued under (current split, not a hole)
    // The run of deferred write-backs being gathered (PendingWriteBacks.push's arguments),
    // in locals: a stream's victims continue it line after line, and a run is pushed when
    // one does not, or before anything queues the pending ones.
    let rDec = 0, rAddr = 0, rN = 0;
    let hits = 0, misses = 0, installs = 0, fills = 0, wbs = 0;
    let vBucket = -1, vGone = 0; // victims taken from presence bucket vBucket and not yet counted off
    const pend = c.pending;
    let way = 0; // the way the last line was found in
    pend.begin(c.data32);
    let k = 0;
    try {
      if (!look && n > 0) { // decode now, as the first miss would
        const d = this.mem.decode(pkg, pa);
        daddr = d.addr; dri = d.ri;
        did = kd.id(d.keyid, pa - daddr, dri, bits);
      }
      const fast = !look && !others && dri >= 0;
      let okOff = 0;
      const run = fast ? c.streamLoop : null; // copyRun's loop in WebAssembly (cachewasm.ts), the same choices
      const st = c.loopState, stAddr = c.loopAddr;
      for (; k < n; k++) {
        if (run !== null) { // lines k.. there, up to one whose victim's decode is to be checked here
          st[ST.rDec] = rDec; st[ST.rN] = rN; st[ST.fills] = fills; st[ST.wbs] = wbs; st[ST.installs] = installs;
          st[ST.vBucket] = vBucket; st[ST.vGone] = vGone; stAddr[0] = rAddr;
          const i0 = installs;
          k = run(k, n, set0, line0, write ? 1 : 0, did, okDec, okOff);
          rDec = st[ST.rDec]; rN = st[ST.rN]; fills = st[ST.fills]; wbs = st[ST.wbs]; installs = st[ST.installs];
          vBucket = st[ST.vBucket]; vGone = st[ST.vGone]; rAddr = stAddr[0];
          misses += installs - i0;
          if (k === n) break;
        }
        const line = line0 + k;
        const set = (set0 + k) & (sets - 1), base = set * ways;
        let slot = -1;
        if (look) {
          if (tags[base + way] === line) slot = base + way;
          else for (let i = base; i < base + ways; i++) if (tags[i] === line) { slot = i; break; }
        }
        filled[k] = 0;
        if (slot >= 0) {
          hits++;
          if (write && !dirty[slot]) { if (others) this.invalidateOthers(pkg, line); dirty[slot] = 1; }
          way = slot - base;
          lru.touch(set, way);
        } else {
          misses++;
          if (dri < 0) { // #MC before anything of this line changes, as line() raises it
            const d = this.mem.decode(pkg, pa + k * LINE);
            daddr = d.addr - k * LINE; dri = d.ri;
            did = kd.id(d.keyid, pa - daddr, dri, bits);
          }
          if (others && this.heldElsewhere(pkg, line)) {
            if (rN > 0) { pend.push(rDec, rAddr, rN); rN = 0; }
            this.flushPending(c);
            this.snoop(pkg, line, write);
          }
          way = lru.victim(set);
          slot = base + way;
          if (tags[slot] !== INVALID) { // evict
            if (dirty[slot]) {
              let v = dec[slot];
              if (v !== okDec) { // a decode not yet checked for this run
                if (rN > 0) { pend.push(rDec, rAddr, rN); rN = 0; }
                v = this.victimDecode(pkg, c, slot);
                if (v >= 0) { okDec = v; okOff = kd.off[v]; }
              }
              if (v >= 0) { // writeBack(), deferred: the data stays in the slot until the copies below
                const addr = tags[slot] * LINE - kd.off[v];
                if (rN === 0 || v !== rDec || addr !== rAddr + rN * LINE || ((addr >>> 0) & (PAGE - 1)) === 0) {
                  if (rN > 0) pend.push(rDec, rAddr, rN);
                  rDec = v; rAddr = addr; rN = 0;
                }
                pend.record(way * sets + set);
                rN++;
                wbs++; // (the slot's dirty bit is set for its new line below)
              }
            }
            // c.drop and c.install, without the invalid state between; the victims' presence
            // counts drop a bucket at a time (a stream's victims are one older page).
            const vb = bucket(tags[slot]);
            if (vb !== vBucket) { if (vGone > 0) present[vBucket] -= vGone; vBucket = vb; vGone = 0; }
            vGone++;
          }
          tags[slot] = line;
          installs++;
          lru.filled(set);
          dirty[slot] = write ? 1 : 0;
          dec[slot] = did;
          if (!write) { filled[k] = 1; fills++; }
        }
        slots[k] = way * sets + set; // c.dataLine(slot)
      }
    } finally { // the lines done before any fault
      if (rN > 0) pend.push(rDec, rAddr, rN);
      if (vGone > 0) present[vBucket] -= vGone;
      present[pb] += installs;
      this.counters.cacheHits += hits;
      this.counters.cacheMisses += misses;
      this.counters.cacheWritebacks += wbs;
      this.clock.tick(hits * COST.cacheHit);
      this.flushPending(c);
      for (let i = 0; fills > 0 && i < k;) {
        if (filled[i] === 0) { i++; continue; }
        let j = fills === k ? k : i + 1; // every line filled (a stream's read): one run
        while (j < k && filled[j] !== 0) j++;
        this.mem.fillRun(pkg, kd.keyid[did], daddr + i * LINE, dri, j - i, buf32, w + 16 * i);
        i = j;
      }
      copyRuns(c, k, buf32, w, write, write || fills > 0, !write && fills < k);
    }
  }

  /** copyRun for geometries it cannot defer in: line() and a 16-word copy per line. */
  private copyLines(pkg: number, pa: number, n: number, buf32: Int32Array, w: number, write: boolean): void {
    const d32 = this.caches[pkg].data32;
    for (let k = 0; k < n; k++) {
      const at = this.line(pkg, pa + k * LINE, write, write) >>> 2;
      if (write) copyLine32(buf32, w + 16 * k, d32, at);
      else copyLine32(d32, at, buf32, w + 16 * k);
    }
  }

  /**
   * The kept decode dirty victim `slot` is written back under (keptDecode). -1 when its
   * range is a hole now: the pending write-backs and this one are then written at once,
   * which raises its #MC as writeBack() does.
   */
  private victimDecode(pkg: number, c: PackageCache, slot: number): number {
    const v = this.keptDecode(pkg, c, slot);
    if (this.decodes.ri[v] >= 0) return v;
    this.flushPending(c);
    this.writeBack(pkg, slot);
    return -1;
  }

  /** Queue the deferred write-backs (cacherun.ts). */
  private flushPending(c: PackageCache): void { c.pending.flush(this.mem, this.decodes); }
}
