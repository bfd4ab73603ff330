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
 * invalidates the other copies. Victims are chosen at random (seeded) among the ways
 * of a set, after any invalid way.
 */
import { Clock, COST } from './clock.js';
import type { Counters } from './counters.js';
import { LINE } from './engine.js';
import type { MemorySystem } from './memsys.js';
import type { Rng } from './rng.js';

const INVALID = -1;

class Cache {
  readonly tags: Float64Array;
  readonly dirty: Uint8Array;
  readonly data: Uint8Array;

  /** sets - 1 when sets is a power of two (the usual geometry), else -1. */
  private readonly setMask: number;

  constructor(readonly sets: number, readonly ways: number) {
    this.tags = new Float64Array(sets * ways).fill(INVALID);
    this.dirty = new Uint8Array(sets * ways);
    this.data = new Uint8Array(sets * ways * LINE);
    this.setMask = (sets & (sets - 1)) === 0 ? sets - 1 : -1;
  }

  /**
   * The first slot of line number `line`'s set: (line mod sets) * ways. Line numbers
   * exceed 32 bits once KeyID bits are set, so `%` is a floating-point remainder (a
   * library call in V8, about 15 ns, several per line). For a power-of-two set count the
   * same value is the low bits of the line number's low 32-bit word (`>>> 0` is exactly
   * ToUint32, the integer mod 2^32, and sets divides 2^32).
   */
  setBase(line: number): number {
    const m = this.setMask;
    return (m >= 0 ? (line >>> 0) & m : line % this.sets) * this.ways;
  }

  /** The slot holding line number `line` (pa / 64), or -1. */
  find(line: number): number {
    const base = this.setBase(line);
    const tags = this.tags;
    for (let i = base; i < base + this.ways; i++) if (tags[i] === line) return i;
    return -1;
  }
}

export class CacheSystem {
  private readonly caches: Cache[];

  constructor(
    packages: number,
    bytes: number,
    ways: number,
    private readonly mem: MemorySystem,
    private readonly rng: Rng,
    private readonly clock: Clock,
    private readonly counters: Counters,
  ) {
    const sets = Math.max(1, Math.floor(bytes / LINE / ways));
    this.caches = Array.from({ length: packages }, () => new Cache(sets, ways));
  }

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
      return slot * LINE;
    }
    this.counters.cacheMisses++;
    const d = this.mem.decode(pkg, pa); // #MC before anything changes
    this.snoop(pkg, line, forWrite);
    slot = this.victim(pkg, c, line);
    if (!fullLine) this.mem.readLine(pkg, d, c.data, slot * LINE);
    c.tags[slot] = line;
    c.dirty[slot] = forWrite ? 1 : 0;
    return slot * LINE;
  }

  dataOf(pkg: number): Uint8Array { return this.caches[pkg].data; }

  /** Other caches: write back a dirty copy; on a write, drop every copy. */
  private snoop(pkg: number, line: number, forWrite: boolean): void {
    for (let p = 0; p < this.caches.length; p++) {
      if (p === pkg) continue;
      const o = this.caches[p];
      const s = o.find(line);
      if (s < 0) continue;
      if (o.dirty[s]) this.writeBack(p, s);
      if (forWrite) o.tags[s] = INVALID;
    }
  }

  private invalidateOthers(pkg: number, line: number): void {
    for (let p = 0; p < this.caches.length; p++) {
      if (p === pkg) continue;
      const o = this.caches[p];
      const s = o.find(line);
      if (s >= 0) o.tags[s] = INVALID; // clean: the owner never shares a dirty line
    }
  }

  private victim(pkg: number, c: Cache, line: number): number {
    const base = c.setBase(line);
    for (let i = base; i < base + c.ways; i++) if (c.tags[i] === INVALID) return i;
    const slot = base + this.rng.below(c.ways);
    if (c.dirty[slot]) this.writeBack(pkg, slot);
    c.tags[slot] = INVALID;
    return slot;
  }

  private writeBack(pkg: number, slot: number): void {
    const c = this.caches[pkg];
    this.mem.writeLine(pkg, c.tags[slot] * LINE, c.data, slot * LINE);
    c.dirty[slot] = 0;
    this.counters.cacheWritebacks++;
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
      c.tags[s] = INVALID;
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
      c.tags[s] = INVALID;
    }
    this.counters.cacheFlushes++;
  }

  /** Power loss: every cache forgets its contents, dirty lines included. */
  loseAll(): void {
    for (const c of this.caches) { c.tags.fill(INVALID); c.dirty.fill(0); }
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
      if (s >= 0) out.push({ pkg, dirty: c.dirty[s] === 1, data: c.data.slice(s * LINE, s * LINE + LINE) });
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
