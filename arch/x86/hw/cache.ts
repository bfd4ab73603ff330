/**
 * Write-back, set-associative last-level caches, one per package, kept coherent by
 * snooping. A line is tagged by its full physical address *including the KeyID bits*,
 * so the KeyID aliases of one page are different lines: the hardware "does not enforce
 * coherency between mappings of the same physical page with different KeyIDs" (Intel
 * MKTME spec (336907-003, rev 1.3), runtime rules). A dirty line is encrypted under its own KeyID when it is written back; a stale
 * dirty alias written back late overwrites newer data. That is the hazard the
 * kernel's flush rules exist for, and it is real here.
 *
 * Coherence (a MESI sketch): a dirty line lives in one cache only. A miss first snoops
 * the other packages; a dirty copy there is written back before the fill. A store
 * invalidates the other copies. The victim is an invalid way if the set has one (the
 * lowest), else the least recently used way (every hit and fill is a use). Real LLCs use
 * pseudo-LRU or adaptive variants of it (Intel 64 and IA-32 Architectures Optimization
 * Reference Manual; exact policies are unpublished): true LRU is the simple stand-in,
 * and under it a stream evicts whole pages in order, as the memory controller sees it.
 *
 * Each package's arrays, lookup and layout are in pkgcache.ts.
 */
import { Clock, COST } from './clock.js';
import type { Counters } from './counters.js';
import { LINE } from './engine.js';
import type { MemorySystem } from './memsys.js';
import { INVALID, KeptDecodes, PackageCache, bucket } from './pkgcache.js';
import { copyRuns, PendingWriteBacks } from './cacherun.js';
import { copyLine32, WordViews } from './words.js';

const PAGE = 4096;

export class CacheSystem {
  private readonly caches: PackageCache[];

  constructor(
    packages: number,
    bytes: number,
    ways: number,
    private readonly mem: MemorySystem,
    private readonly clock: Clock,
    private readonly counters: Counters,
  ) {
    const sets = Math.max(1, Math.floor(bytes / LINE / ways));
    this.caches = Array.from({ length: packages }, () => new PackageCache(sets, ways));
  }

  /** The decodes the slots keep (pkgcache.ts). */
  private readonly decodes = new KeptDecodes();

  /**
   * The slot of line `pa` (line-aligned) in package `pkg`'s cache, filling it if
   * needed. `forWrite` takes ownership (other copies are invalidated and the line is
   * marked dirty); `fullLine` says the caller will overwrite all 64 bytes, so a miss
   * need not read memory. Returns the byte offset of the line in `dataOf(pkg)`.
   * Raises #MC (from the memory system) for a hole; nothing changes then.
   */
  line(pkg: number, pa: number, forWrite: boolean, fullLine = false): number {
    const c = this.caches[pkg];
    const line = pa / LINE;
    let slot = c.find(line);
    if (slot >= 0) {
      this.counters.cacheHits++;
      this.clock.tick(COST.cacheHit);
      if (forWrite && !c.dirty[slot]) { this.invalidateOthers(pkg, line); c.dirty[slot] = 1; }
      c.touch(slot);
      this.lastSlot = slot;
      return c.dataLine(slot) * LINE;
    }
    this.counters.cacheMisses++;
    const d = this.mem.decode(pkg, pa); // #MC before anything changes
    const keyid = d.keyid, addr = d.addr, ri = d.ri;
    this.snoop(pkg, line, forWrite);
    const set = c.setIndex(line);
    slot = this.victim(pkg, c, set);
    if (!fullLine) {
      try {
        this.mem.readLine(pkg, d, c.data, c.dataLine(slot) * LINE);
      } catch (e) {
        c.lru.invalidate(set, c.wayOf(slot)); // the victim is gone: its way is an invalid one now
        throw e;
      }
    }
    c.install(slot, line);
    c.lru.filled(set);
    c.dirty[slot] = forWrite ? 1 : 0;
    c.dec[slot] = this.decodes.id(keyid, pa - addr, ri, this.mem.splitBits(pkg));
    this.lastSlot = slot;
    return c.dataLine(slot) * LINE;
  }

  /** The slot the last line() call ended in. */
  private lastSlot = 0;

  /**
   * A load of the line package `pkg`'s last line() call returned, right after it: a hit,
   * counted and charged as line() would (the walker's second 32-bit load of an entry; one
   * lookup instead of two). Nothing may have touched the cache since that call.
   */
  rehit(pkg: number): void {
    this.counters.cacheHits++;
    this.clock.tick(COST.cacheHit);
    this.caches[pkg].touch(this.lastSlot);
  }

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
   * - a pass over the lines does the lookups, victims and installs; the dirty victims'
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
    const lru = c.lru, order = lru.order, head = lru.head, inv = lru.inv;
    const dec = c.dec, kd = this.decodes;
    const slots = this.runSlots, filled = this.runFilled;
    const bits = this.mem.splitBits(pkg);
    const line0 = pa / LINE;
    const set0 = c.setBase(line0) / ways; // later lines: the sets after it (pow2: mod sets)
    // The page's presence bucket, read before the run's own installs: if no line of it is
    // held here, no line of the run needs a tag lookup; if no other package holds one, none
    // needs a snoop or an invalidation (the run only ever drops lines in other caches).
    const pb = bucket(line0);
    const look = present[pb] !== 0, others = this.heldBucketElsewhere(pkg, pb);
    let daddr = 0, dri = -1, did = -1; // the page's decode (address of its line 0; its KeptDecodes index)
    let okDec = -1; // a kept decode a victim here was queued under (current split, not a hole)
    // The run of deferred write-backs being gathered (PendingWriteBacks.push's arguments),
    // in locals: a stream's victims continue it line after line.
    let rDec = 0, rAddr = 0, rN = 0;
    let hits = 0, misses = 0, installs = 0, fills = 0, wbs = 0;
    let vBucket = -1, vGone = 0; // victims taken from presence bucket vBucket and not yet counted off
    const pend = this.pending;
    let way = 0; // the way the last line was found in
    pend.begin(c.data32);
    let k = 0;
    try {
      for (; k < n; k++) {
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
            this.flushPending();
            this.snoop(pkg, line, write);
          }
          const h = head[set];
          way = order[base + h]; // LruRing.victim
          slot = base + way;
          if (tags[slot] !== INVALID) { // evict
            if (dirty[slot]) {
              const v = dec[slot], at = way * sets + set;
              if (v === okDec) { // writeBack(), deferred: the data stays in the slot until the copies below
                const addr = tags[slot] * LINE - kd.off[v];
                if (rN === 0 || v !== rDec || addr !== rAddr + rN * LINE || ((addr >>> 0) & (PAGE - 1)) === 0) {
                  if (rN > 0) pend.push(rDec, rAddr, rN);
                  rDec = v; rAddr = addr; rN = 0;
                }
                pend.record(at);
                rN++;
                wbs++; // (the slot's dirty bit is set for its new line below)
              } else {
                if (rN > 0) { pend.push(rDec, rAddr, rN); rN = 0; }
                if (this.deferWriteBack(pkg, c, slot, at, bits)) okDec = dec[slot];
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
          head[set] = h + 1 === ways ? 0 : h + 1; // LruRing.filled
          if (inv[set] > 0) inv[set]--;
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
      this.flushPending();
      for (let i = 0; fills > 0 && i < k;) {
        if (filled[i] === 0) { i++; continue; }
        let j = i + 1;
        while (j < k && filled[j] !== 0) j++;
        this.mem.fillRun(pkg, kd.keyid[did], daddr + i * LINE, dri, j - i, buf32, w + 16 * i);
        i = j;
      }
      copyRuns(slots, filled, k, buf32, w, c.data32, write);
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

  /** copyRun's data lines (PackageCache.dataLine) and which lines it filled, one per line of a page. */
  private readonly runSlots = new Int32Array(PAGE / LINE);
  private readonly runFilled = new Uint8Array(PAGE / LINE);
  /** copyRun's deferred write-backs, in eviction order. */
  private readonly pending = new PendingWriteBacks(PAGE / LINE);

  /** Whether a package other than `pkg` holds line number `line`. */
  private heldElsewhere(pkg: number, line: number): boolean {
    for (let p = 0; p < this.caches.length; p++) if (p !== pkg && this.caches[p].find(line) >= 0) return true;
    return false;
  }

  /** Whether a package other than `pkg` holds any line of presence bucket `pb`. */
  private heldBucketElsewhere(pkg: number, pb: number): boolean {
    for (let p = 0; p < this.caches.length; p++) if (p !== pkg && this.caches[p].present[pb] !== 0) return true;
    return false;
  }

  /**
   * writeBack() of dirty victim `slot` (its data at data line `at`; `bits`, the package's
   * KeyID split, as copyRun read it once for the page), its queueing deferred
   * to flushPending: the data stays in the slot until copyRun's copies. A line whose range
   * is now a hole writes back at once, after the pending ones, to raise its #MC as
   * writeBack does. True when it was deferred (under the slot's kept decode, then current).
   */
  private deferWriteBack(pkg: number, c: PackageCache, slot: number, at: number, bits: number): boolean {
    const kd = this.decodes;
    if (kd.bits[c.dec[slot]] !== bits) this.redecode(pkg, c, slot);
    const v = c.dec[slot];
    if (kd.ri[v] < 0) { this.flushPending(); this.writeBack(pkg, slot); return false; }
    this.pending.record(at);
    this.pending.push(v, c.tags[slot] * LINE - kd.off[v], 1);
    c.dirty[slot] = 0;
    this.counters.cacheWritebacks++;
    return true;
  }

  /** Slot `slot`'s kept decode (a KeptDecodes index), made again first if the package's KeyID split changed since. */
  private keptDecode(pkg: number, c: PackageCache, slot: number): number {
    if (this.decodes.bits[c.dec[slot]] !== this.mem.splitBits(pkg)) this.redecode(pkg, c, slot);
    return c.dec[slot];
  }

  /** Queue the deferred write-backs (cacherun.ts). */
  private flushPending(): void { this.pending.flush(this.mem, this.decodes); }


  dataOf(pkg: number): Uint8Array { return this.caches[pkg].data; }

  /** Other caches: write back a dirty copy; on a write, drop every copy. */
  private snoop(pkg: number, line: number, forWrite: boolean): void {
    for (let p = 0; p < this.caches.length; p++) {
      if (p === pkg) continue;
      const o = this.caches[p];
      const s = o.find(line);
      if (s < 0) continue;
      if (o.dirty[s]) this.writeBack(p, s);
      if (forWrite) o.drop(s);
    }
  }

  private invalidateOthers(pkg: number, line: number): void {
    for (let p = 0; p < this.caches.length; p++) {
      if (p === pkg) continue;
      const o = this.caches[p];
      const s = o.find(line);
      if (s >= 0) o.drop(s); // clean: the owner never shares a dirty line
    }
  }

  /**
   * line()'s victim in set `set` (LruRing.victim), written back if dirty and its line
   * forgotten; its way keeps its place in the ring for the fill (LruRing.filled).
   */
  private victim(pkg: number, c: PackageCache, set: number): number {
    const slot = set * c.ways + c.lru.victim(set);
    if (c.tags[slot] === INVALID) return slot;
    if (c.dirty[slot]) this.writeBack(pkg, slot);
    c.present[bucket(c.tags[slot])]--;
    c.tags[slot] = INVALID;
    return slot;
  }

  private writeBack(pkg: number, slot: number): void {
    const c = this.caches[pkg];
    const mem = this.mem;
    if (mem.batched) {
      const kd = this.decodes, v = this.keptDecode(pkg, c, slot), ri = kd.ri[v];
      if (ri >= 0) mem.queueLine(kd.keyid[v], c.tags[slot] * LINE - kd.off[v], ri, c.data32, c.dataLine(slot) * 16);
      else mem.writeLine(pkg, c.tags[slot] * LINE, c.data, c.dataLine(slot) * LINE); // a hole now: #MC as per line
    } else {
      mem.writeLine(pkg, c.tags[slot] * LINE, c.data, c.dataLine(slot) * LINE);
    }
    c.dirty[slot] = 0;
    this.counters.cacheWritebacks++;
  }

  /** Decode slot `s`'s line again: the package's KeyID split changed since its fill (-1: a hole now). */
  private redecode(pkg: number, c: PackageCache, s: number): void {
    const pa = c.tags[s] * LINE;
    const d = this.mem.decodeOrNull(pkg, pa);
    const bits = this.mem.splitBits(pkg);
    c.dec[s] = d === null ? this.decodes.id(0, 0, -1, bits) : this.decodes.id(d.keyid, pa - d.addr, d.ri, bits);
  }

  /** CLFLUSH: write back and invalidate line `pa` (KeyID included) in every cache. */
  clflush(pa: number): void {
    const line = Math.floor(pa / LINE);
    this.counters.cacheFlushes++;
    this.clock.tick(COST.flushLine);
    this.evictEverywhere(line);
  }

  /** Write line number `line` back from every cache that holds it dirty, and drop it. */
  private evictEverywhere(line: number): void {
    for (let p = 0; p < this.caches.length; p++) {
      const c = this.caches[p];
      const s = c.find(line);
      if (s < 0) continue;
      if (c.dirty[s]) this.writeBack(p, s);
      c.drop(s);
    }
  }

  /**
   * MOVDIR64B's direct store of line `pa` (KeyID included) from package `pkg`: every
   * cached copy is written back if dirty and invalidated (SDM MOVDIR64B), then the line
   * goes to the memory controller whole (its write-combining queue, memsys.ts). Raises
   * #MC for a hole before anything changes.
   */
  directStore(pkg: number, pa: number, src: Uint8Array, srcOff: number): void {
    this.mem.decode(pkg, pa); // #MC first
    this.evictEverywhere(pa / LINE);
    this.mem.writeLine(pkg, pa, src, srcOff);
  }

  /** WBINVD: write back and invalidate every line of one package's cache, in set/way order. */
  wbinvd(pkg: number): void {
    const c = this.caches[pkg];
    for (let s = 0; s < c.tags.length; s++) {
      if (c.tags[s] === INVALID) continue;
      if (c.dirty[s]) this.writeBack(pkg, s);
      c.drop(s);
    }
    this.counters.cacheFlushes++;
  }

  /** Power loss: every cache forgets its contents, dirty lines included. */
  loseAll(): void {
    for (const c of this.caches) c.clear();
  }

  /**
   * What a cache side channel (L1TF-style) could read: the plaintext of line `pa`
   * (KeyID included) in each package's cache that holds it. Not an instruction: only
   * the machine's owner (tests, the shell's `cache` tool) can call this.
   */
  peek(pa: number): { pkg: number; dirty: boolean; data: Uint8Array }[] {
    const line = Math.floor(pa / LINE);
    const out: { pkg: number; dirty: boolean; data: Uint8Array }[] = [];
    this.caches.forEach((c, pkg) => {
      const s = c.find(line);
      if (s >= 0) out.push({ pkg, dirty: c.dirty[s] === 1, data: c.data.slice(c.dataLine(s) * LINE, c.dataLine(s) * LINE + LINE) });
    });
    return out;
  }

  /** Number of dirty lines held (all packages), for tests and `stat`. */
  dirtyLines(): number {
    let n = 0;
    for (const c of this.caches) for (let s = 0; s < c.tags.length; s++) if (c.tags[s] !== INVALID && c.dirty[s]) n++;
    return n;
  }
}
