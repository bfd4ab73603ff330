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
 * Each package's arrays, lookup and layout are in pkgcache.ts, each set's replacement
 * order in lru.ts; the block moves (CacheSystem) in cache.ts.
 */
import { Clock, COST } from './clock.js';
import type { Counters } from './counters.js';
import { LINE } from './engine.js';
import type { MemorySystem } from './memsys.js';
import { INVALID, KeptDecodes, PackageCache, bucket } from './pkgcache.js';

/**
 * The caches line by line: lookup, fill, replacement, coherence, write-back and the
 * maintenance operations. Block moves (copy) are CacheSystem's, in cache.ts.
 */
export class LineCaches {
  protected readonly caches: PackageCache[];

  constructor(
    packages: number,
    bytes: number,
    ways: number,
    protected readonly mem: MemorySystem,
    protected readonly clock: Clock,
    protected readonly counters: Counters,
  ) {
    const sets = Math.max(1, Math.floor(bytes / LINE / ways));
    this.caches = Array.from({ length: packages }, () => new PackageCache(sets, ways));
  }

  /** The decodes the slots keep (pkgcache.ts). */
  protected readonly decodes = new KeptDecodes();

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

  /** Whether a package other than `pkg` holds line number `line`. */
  protected heldElsewhere(pkg: number, line: number): boolean {
    for (let p = 0; p < this.caches.length; p++) if (p !== pkg && this.caches[p].find(line) >= 0) return true;
    return false;
  }

  /** Whether a package other than `pkg` holds any line of presence bucket `pb`. */
  protected heldBucketElsewhere(pkg: number, pb: number): boolean {
    for (let p = 0; p < this.caches.length; p++) if (p !== pkg && this.caches[p].present[pb] !== 0) return true;
    return false;
  }

  /** Slot `slot`'s kept decode (a KeptDecodes index), made again first if the package's KeyID split changed since. */
  protected keptDecode(pkg: number, c: PackageCache, slot: number): number {
    if (this.decodes.bits[c.dec[slot]] !== this.mem.splitBits(pkg)) this.redecode(pkg, c, slot);
    return c.dec[slot];
  }

  dataOf(pkg: number): Uint8Array { return this.caches[pkg].data; }

  /** Other caches: write back a dirty copy; on a write, drop every copy. */
  protected snoop(pkg: number, line: number, forWrite: boolean): void {
    for (let p = 0; p < this.caches.length; p++) {
      if (p === pkg) continue;
      const o = this.caches[p];
      const s = o.find(line);
      if (s < 0) continue;
      if (o.dirty[s]) this.writeBack(p, s);
      if (forWrite) o.drop(s);
    }
  }

  protected invalidateOthers(pkg: number, line: number): void {
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

  protected writeBack(pkg: number, slot: number): void {
    const c = this.caches[pkg];
    const mem = this.mem;
    if (mem.batched) {
      const kd = this.decodes, v = this.keptDecode(pkg, c, slot), ri = kd.ri[v];
      if (ri >= 0) mem.queueRun(kd.keyid[v], c.tags[slot] * LINE - kd.off[v], ri, 1, c.data32, c.dataLine(slot) * 16);
      else mem.writeLine(pkg, c.tags[slot] * LINE, c.data, c.dataLine(slot) * LINE); // a hole now: #MC as per line
    } else {
      mem.writeLine(pkg, c.tags[slot] * LINE, c.data, c.dataLine(slot) * LINE);
    }
    c.dirty[slot] = 0;
    this.counters.cacheWritebacks++;
  }

  /** Decode slot `s`'s line again: the package's KeyID split changed since its fill (-1: a hole now). */
  protected redecode(pkg: number, c: PackageCache, s: number): void {
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
