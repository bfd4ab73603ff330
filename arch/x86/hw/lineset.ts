/**
 * A small set of line addresses in typed arrays: the write-combining queue's "is this
 * line queued?" (memsys.ts), asked by every fill while the queue holds lines. Kept by
 * 4 KiB page: an open-addressed table of CAPACITY slots (linear probing), each a page
 * address and a 64-bit mask of its lines in two words, emptied in O(1) by bumping a
 * generation number, for at most CAPACITY / 4 pages between clears. The queue adds a run
 * of one page's lines with one probe (a JS Set of numbers would hash a double per line
 * and allocate as it grows).
 */
const CAPACITY = 4096;
const MASK = CAPACITY - 1;
const LINE = 64;
const PAGE = 4096;

/** Bits [from, to) of a 32-bit word (0 <= from, to <= 32), as an int32. */
function bits(from: number, to: number): number {
  if (to <= from) return 0;
  const width = to - from;
  return (width === 32 ? -1 : (1 << width) - 1) << from;
}

export class LineSet {
  private readonly pages = new Float64Array(CAPACITY);
  /** Lines 0-31 and 32-63 of each slot's page. */
  private readonly lo = new Int32Array(CAPACITY);
  private readonly hi = new Int32Array(CAPACITY);
  /** A slot is in use iff its generation is the current one. */
  private readonly gens = new Uint32Array(CAPACITY);
  private gen = 1;
  /** Pages held since the last clear. */
  private count = 0;

  /** The slot of the page at `page` (4 KiB-aligned), or -1. */
  private find(page: number): number {
    const pages = this.pages, gens = this.gens, gen = this.gen;
    for (let h = ((page / PAGE) >>> 0) & MASK; gens[h] === gen; h = (h + 1) & MASK) if (pages[h] === page) return h;
    return -1;
  }

  /**
   * Add lines addr, addr + 64, ... (`n` of them, line-aligned, all in one 4 KiB page). Throws
   * past LINESET_MAX pages.
   */
  addRun(addr: number, n: number): void {
    const off = (addr >>> 0) & (PAGE - 1); // addr % 4096, exact: 4096 divides 2^32
    const page = addr - off, i0 = off / LINE, i1 = i0 + n;
    if (i1 > PAGE / LINE) throw new RangeError('LineSet: a run crosses a page');
    const pages = this.pages, gens = this.gens, gen = this.gen;
    let h = ((page / PAGE) >>> 0) & MASK;
    while (gens[h] === gen && pages[h] !== page) h = (h + 1) & MASK;
    if (gens[h] !== gen) {
      if (this.count === LINESET_MAX) throw new RangeError('LineSet: full');
      this.count++;
      gens[h] = gen; pages[h] = page; this.lo[h] = 0; this.hi[h] = 0;
    }
    this.lo[h] |= bits(i0, Math.min(i1, 32));
    this.hi[h] |= bits(Math.max(i0 - 32, 0), i1 - 32);
  }

  has(addr: number): boolean {
    const off = (addr >>> 0) & (PAGE - 1);
    const h = this.find(addr - off);
    if (h < 0) return false;
    const i = off / LINE;
    return ((i < 32 ? this.lo[h] >>> i : this.hi[h] >>> (i - 32)) & 1) !== 0;
  }

  /** Whether any line of [addr, addr + len) is held (addr line-aligned, len a multiple of 64). */
  hasRange(addr: number, len: number): boolean {
    const end = addr + len;
    for (let at = addr; at < end;) {
      const off = (at >>> 0) & (PAGE - 1), page = at - off;
      const stop = Math.min(end, page + PAGE);
      const h = this.find(page);
      if (h >= 0) {
        const i0 = off / LINE, i1 = (stop - page) / LINE;
        if ((this.lo[h] & bits(i0, Math.min(i1, 32))) !== 0) return true;
        if ((this.hi[h] & bits(Math.max(i0 - 32, 0), i1 - 32)) !== 0) return true;
      }
      at = stop;
    }
    return false;
  }

  clear(): void {
    this.count = 0;
    if (this.gen === 0xffffffff) { this.gens.fill(0); this.gen = 1; } else this.gen++;
  }
}

/** Pages a LineSet holds at most (the probe chains stay short below a quarter full). */
export const LINESET_MAX = CAPACITY / 4;
