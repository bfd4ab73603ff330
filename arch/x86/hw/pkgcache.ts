/**
 * One package's last-level cache as arrays: tags, dirty bits, each set's replacement
 * ring (lru.ts), each line's kept decode (an index into KeptDecodes, below), the line
 * data, and a presence filter. The coherent system over all packages is in linecache.ts,
 * the block moves in cache.ts.
 *
 * Layout: the per-line state is indexed by slot = set * ways + way, so one set's tags sit
 * together for the lookup; the line data is way-major (line way * sets + set, dataLine),
 * so the lines of one page that land in one way sit together in `data` and a block move
 * copies them as one run.
 */
import { cacheMemory, INVALID, PRESENCE, RUN_LINES as RUN, ST_WORDS, type MoveLines, type StreamLoop } from './cachewasm.js';
import { PendingWriteBacks } from './cacherun.js';
import { LINE } from './engine.js';
import { LruRing } from './lru.js';

export { INVALID };

export class PackageCache {
  readonly tags: Float64Array;
  readonly dirty: Uint8Array;
  /** The line data, way-major (dataLine). */
  readonly data: Uint8Array;
  readonly data32: Int32Array;
  /**
   * Each slot's line as the memory system decoded it at the fill, as an index into the
   * caches' KeptDecodes (host-side bookkeeping, so a write-back need not decode again).
   */
  readonly dec: Int32Array;
  /** The replacement order of each set's ways (lru.ts). */
  readonly lru: LruRing;
  /**
   * Lines held per bucket of pages (line numbers, KeyID included, by their bits 6-19: a
   * page's 64 lines share a bucket), so most lookups of a line the cache does not hold (a
   * stream's, a snoop's) compare no tags, and a block move learns from one entry that no
   * line of its page is held (cache.ts copyRun). Host-side only. A count can reach the
   * cache's size, so 32 bits.
   */
  readonly present: Int32Array;
  /**
   * Host-side scratch of cache.ts copyRun, one set per cache: each line's data line and
   * whether it was filled, and the deferred write-backs (cacherun.ts).
   */
  readonly runSlots: Int32Array;
  readonly runFilled: Uint8Array;
  readonly pending: PendingWriteBacks;
  /**
   * copyRun's stream loop in WebAssembly over these arrays (cachewasm.ts), and the state
   * handed to it and back (cachewasm.ts ST; rAddr apart, a float); null without WebAssembly.
   */
  readonly streamLoop: StreamLoop | null;
  readonly loopState: Int32Array;
  readonly loopAddr: Float64Array;
  /** copyRun's moves between a caller's buffer and the data, in WebAssembly through a stage of a page (cacherun.ts copyRuns). */
  readonly moveLines: MoveLines | null;
  readonly stage32: Int32Array;

  /** sets - 1 when sets is a power of two (the usual geometry), else -1. */
  private readonly setMask: number;
  /** Whether sets is a power of two: a set is then chosen by address bits below the KeyID's. */
  readonly pow2: boolean;
  /** log2(ways) when ways is a power of two, else -1. */
  private readonly wayShift: number;

  constructor(readonly sets: number, readonly ways: number) {
    // The per-slot state and the line data in one memory (cachewasm.ts has the layout).
    const n = sets * ways, mem = cacheMemory(sets, ways), lay = mem.layout, b = mem.buffer;
    this.tags = new Float64Array(b, lay.tags, n).fill(INVALID);
    this.dirty = new Uint8Array(b, lay.dirty, n);
    this.data = new Uint8Array(b, lay.data, n * LINE);
    this.data32 = new Int32Array(b, lay.data, n * (LINE / 4));
    this.dec = new Int32Array(b, lay.dec, n);
    this.present = new Int32Array(b, lay.present, PRESENCE);
    this.lru = new LruRing(sets, ways, {
      order: new Uint8Array(b, lay.order, n), head: new Uint8Array(b, lay.head, sets), inv: new Uint8Array(b, lay.inv, sets),
    });
    this.runSlots = new Int32Array(b, lay.slots, RUN);
    this.runFilled = new Uint8Array(b, lay.filled, RUN);
    this.pending = new PendingWriteBacks({
      words: new Int32Array(b, lay.pendWords, RUN), first: new Int32Array(b, lay.pendFirst, RUN),
      dec: new Int32Array(b, lay.pendDec, RUN), addr: new Float64Array(b, lay.pendAddr, RUN),
      count: new Int32Array(b, lay.pendCount, RUN), counts: new Int32Array(b, lay.pendCounts, 2),
    }, new Int32Array(b, lay.gathered, RUN * (LINE / 4)), mem.gather);
    this.streamLoop = mem.run;
    this.moveLines = mem.move;
    this.stage32 = new Int32Array(b, lay.stage, RUN * (LINE / 4));
    this.loopState = new Int32Array(b, lay.state, ST_WORDS);
    this.loopAddr = new Float64Array(b, lay.stateAddr, 1);
    this.setMask = (sets & (sets - 1)) === 0 ? sets - 1 : -1;
    this.pow2 = this.setMask >= 0;
    this.wayShift = (ways & (ways - 1)) === 0 ? Math.log2(ways) : -1;
  }

  /**
   * The first slot of line number `line`'s set: (line mod sets) * ways. Line numbers
   * exceed 32 bits once KeyID bits are set, so `%` is a floating-point remainder (a
   * library call in V8, about 15 ns, several per line). For a power-of-two set count the
   * same value is the low bits of the line number's low 32-bit word (`>>> 0` is exactly
   * ToUint32, the integer mod 2^32, and sets divides 2^32).
   */
  setBase(line: number): number {
    return this.setIndex(line) * this.ways;
  }

  /** The set of line number `line` (setBase's, not multiplied). */
  setIndex(line: number): number {
    const m = this.setMask;
    return m >= 0 ? (line >>> 0) & m : line % this.sets;
  }

  /** Slot `slot`'s set and way (slot = set * ways + way), by shift and mask for a power-of-two way count. */
  setOf(slot: number): number {
    const sh = this.wayShift;
    return sh >= 0 ? slot >>> sh : (slot - slot % this.ways) / this.ways;
  }
  wayOf(slot: number): number {
    return this.wayShift >= 0 ? slot & (this.ways - 1) : slot % this.ways;
  }

  /** Valid slot `slot` was just used (a hit). */
  touch(slot: number): void {
    this.lru.touch(this.setOf(slot), this.wayOf(slot));
  }

  /** The slot holding line number `line` (pa / 64), or -1. */
  find(line: number): number {
    if (this.present[bucket(line)] === 0) return -1;
    const base = this.setBase(line);
    const tags = this.tags;
    for (let i = base; i < base + this.ways; i++) if (tags[i] === line) return i;
    return -1;
  }

  /** Slot `slot` now holds line number `line` (it was invalid). */
  install(slot: number, line: number): void {
    this.tags[slot] = line;
    this.present[bucket(line)]++;
  }

  /** Slot `slot` (valid) is invalid from now on. */
  drop(slot: number): void {
    this.present[bucket(this.tags[slot])]--;
    this.tags[slot] = INVALID;
    this.lru.invalidate(this.setOf(slot), this.wayOf(slot));
  }

  /** Every slot invalid. */
  clear(): void {
    this.tags.fill(INVALID);
    this.lru.clear();
    this.dirty.fill(0);
    this.present.fill(0);
  }

  /**
   * Where slot `slot`'s 64 bytes are in `data`, in lines: way * sets + set. With a
   * power-of-two way count by mask and shift: an integer division by a variable is tens
   * of cycles, and a line() hit (every page-walk load) asks this.
   */
  dataLine(slot: number): number {
    return this.wayOf(slot) * this.sets + this.setOf(slot);
  }
}

/**
 * The decodes the caches' slots keep, each once: KeyID, the KeyID's part of the address
 * (so a slot's KeyID-free address is its line * 64 - off), memory range (-1: a hole) and
 * the KeyID split it was made under (MemorySystem.splitBits; a decode is valid while the
 * package's split is the same). A slot holds an index here (PackageCache.dec), not four
 * fields of its own: there is one decode per KeyID, range and split in use, a handful.
 */
export class KeptDecodes {
  readonly keyid: number[] = [];
  readonly off: number[] = [];
  readonly ri: number[] = [];
  readonly bits: number[] = [];
  private readonly ids = new Map<number, number>();
  private lastKey = -1;
  private lastId = -1;

  /** The index of this decode (added on first use). A hole is (0, 0, -1, bits). */
  id(keyid: number, off: number, ri: number, bits: number): number {
    if (ri >= 63) throw new RangeError('KeptDecodes: more memory ranges than it numbers');
    const k = (bits * 64 + ri + 1) * 65536 + keyid; // keyid < 2^16, ri + 1 < 64: one number per decode
    if (k === this.lastKey) return this.lastId;
    let id = this.ids.get(k);
    if (id === undefined) {
      id = this.keyid.length;
      this.keyid.push(keyid); this.off.push(off); this.ri.push(ri); this.bits.push(bits);
      this.ids.set(k, id);
    }
    this.lastKey = k;
    this.lastId = id;
    return id;
  }
}

/**
 * A line number's presence-filter bucket: its page's, the line number's bits 6-19 (`>>>`
 * takes ToUint32, the integer mod 2^32, first: exact above 32 bits too).
 */
export function bucket(line: number): number {
  return (line >>> 6) & (PRESENCE - 1);
}
