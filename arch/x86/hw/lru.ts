/**
 * The replacement order of a set-associative cache (pkgcache.ts): per set, its ways from
 * the least to the most recently used, as a ring. The victim is the lowest invalid way if
 * the set has one, else the least recently used; every hit and fill is a use (true LRU,
 * the stand-in cache.ts's header explains).
 *
 * Layout: set s's ways sit at order[s * ways + p] for positions p = 0..ways-1, read
 * circularly from head[s]. The set's inv[s] invalid ways come first, lowest way first,
 * then the valid ones, oldest first; the position before head[s] holds the most recently
 * used. So choosing a victim is one load, and filling it (it becomes the most recently
 * used) moves head on by one. A stream, which evicts one way of consecutive sets, does
 * only that. A hit on a way in the middle shifts the ways after it by one position, and
 * an invalidation rebuilds its set's ring: at most `ways` steps either way.
 *
 * The same choices as stamping each slot with a use counter and scanning a set for the
 * lowest stamp (tests/hw/lru.test.ts compares the two), without reading every way's stamp
 * on each miss.
 */
export class LruRing {
  /** Per set, its ways by position (ways fit a byte: the constructor checks). */
  readonly order: Uint8Array;
  /** Per set, the position of its victim: the lowest invalid way, else the least recently used. */
  readonly head: Uint8Array;
  /** Per set, how many of its ways are invalid: those at the positions from head on. */
  readonly inv: Uint8Array;
  private readonly scratch: Uint8Array;

  /** `arrays`: where order, head and inv live (pkgcache.ts puts them in the cache's memory); fresh ones if absent. */
  constructor(readonly sets: number, readonly ways: number,
    arrays?: { order: Uint8Array; head: Uint8Array; inv: Uint8Array }) {
    if (!Number.isInteger(ways) || ways < 1 || ways > 255) throw new RangeError(`LruRing: ${ways} ways (1-255)`);
    this.order = arrays?.order ?? new Uint8Array(sets * ways);
    this.head = arrays?.head ?? new Uint8Array(sets);
    this.inv = arrays?.inv ?? new Uint8Array(sets);
    this.scratch = new Uint8Array(ways);
    this.clear();
  }

  /** Every way of every set invalid. */
  clear(): void {
    const ways = this.ways;
    for (let s = 0; s < this.sets; s++) for (let w = 0; w < ways; w++) this.order[s * ways + w] = w;
    this.head.fill(0);
    this.inv.fill(ways);
  }

  /** Set `set`'s victim: its lowest invalid way, else its least recently used. */
  victim(set: number): number {
    return this.order[set * this.ways + this.head[set]];
  }

  /** Set `set`'s victim (victim(set)) was just filled: it is the most recently used now, and valid. */
  filled(set: number): void {
    const h = this.head[set] + 1;
    this.head[set] = h === this.ways ? 0 : h;
    if (this.inv[set] > 0) this.inv[set]--;
  }

  /** Valid way `way` of set `set` was just used (a hit): it is the most recently used now. */
  touch(set: number, way: number): void {
    const ways = this.ways, base = set * ways, o = this.order;
    const h = this.head[set];
    const mru = h === 0 ? ways - 1 : h - 1;
    if (o[base + mru] === way) return;
    if (o[base + h] === way) { this.head[set] = h + 1 === ways ? 0 : h + 1; return; } // the oldest: inv is 0
    let p = mru; // find it from the newest end, then move the newer ones back a place
    while (o[base + p] !== way) p = p === 0 ? ways - 1 : p - 1;
    while (p !== mru) {
      const q = p + 1 === ways ? 0 : p + 1;
      o[base + p] = o[base + q];
      p = q;
    }
    o[base + mru] = way;
  }

  /** Valid way `way` of set `set` is invalid from now on: it joins the invalid ways in order. */
  invalidate(set: number, way: number): void {
    const ways = this.ways, base = set * ways, o = this.order, t = this.scratch;
    const h = this.head[set], inv = this.inv[set];
    let n = 0;
    let placed = false;
    for (let i = 0; i < inv; i++) {
      const w = o[base + ((h + i) % ways)];
      if (!placed && way < w) { t[n++] = way; placed = true; }
      t[n++] = w;
    }
    if (!placed) t[n++] = way;
    for (let i = inv; i < ways; i++) {
      const w = o[base + ((h + i) % ways)];
      if (w !== way) t[n++] = w;
    }
    o.set(t, base);
    this.head[set] = 0;
    this.inv[set] = inv + 1;
  }
}
