/**
 * A small set of line addresses in typed arrays: the write-combining queue's "is this
 * line queued?" (memsys.ts), asked by every fill while the queue holds lines. A JS Set
 * of numbers costs a hash of a double and an allocation-prone table per insert; this is
 * an open-addressed table of CAPACITY slots (linear probing) that empties in O(1) by
 * bumping a generation number, for at most CAPACITY / 4 members between clears.
 */
const CAPACITY = 4096;
const MASK = CAPACITY - 1;
const LINE = 64;

export class LineSet {
  private readonly keys = new Float64Array(CAPACITY);
  /** A slot is in use iff its generation is the current one. */
  private readonly gens = new Uint32Array(CAPACITY);
  private gen = 1;

  /** The home slot of line-aligned `addr`: its line number's low bits (exact, see cache.ts setBase). */
  private static home(addr: number): number { return ((addr / LINE) >>> 0) & MASK; }

  add(addr: number): void {
    const keys = this.keys, gens = this.gens, gen = this.gen;
    let h = LineSet.home(addr);
    while (gens[h] === gen) {
      if (keys[h] === addr) return;
      h = (h + 1) & MASK;
    }
    gens[h] = gen;
    keys[h] = addr;
  }

  has(addr: number): boolean {
    const keys = this.keys, gens = this.gens, gen = this.gen;
    for (let h = LineSet.home(addr); gens[h] === gen; h = (h + 1) & MASK) if (keys[h] === addr) return true;
    return false;
  }

  clear(): void {
    if (this.gen === 0xffffffff) { this.gens.fill(0); this.gen = 1; } else this.gen++;
  }
}

/** Members a LineSet holds at most (the probe chains stay short below a quarter full). */
export const LINESET_MAX = CAPACITY / 4;
