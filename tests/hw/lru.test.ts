/**
 * The caches' replacement ring (arch/x86/hw/lru.ts) against the policy it stands for:
 * stamp every use with a counter, invalidate by stamping -1, and take a set's lowest
 * invalid way, else its lowest stamp. Random hits, fills and invalidations on a few sets
 * of several way counts give the same victim after every step.
 */
import t from 'tap';
import { LruRing } from '../../arch/x86/hw/lru.js';
import { Rng } from '../../arch/x86/hw/rng.js';

/** The stamp model: used[set][way] is the last use, -1 for an invalid way. */
class StampModel {
  private now = 0;
  readonly used: number[][];
  constructor(sets: number, readonly ways: number) {
    this.used = Array.from({ length: sets }, () => new Array(ways).fill(-1));
  }
  victim(set: number): number {
    const u = this.used[set];
    const invalid = u.indexOf(-1);
    if (invalid >= 0) return invalid;
    let best = 0;
    for (let w = 1; w < this.ways; w++) if (u[w] < u[best]) best = w;
    return best;
  }
  use(set: number, way: number): void { this.used[set][way] = ++this.now; }
  invalidate(set: number, way: number): void { this.used[set][way] = -1; }
}

for (const ways of [1, 2, 3, 4, 8, 12, 16]) {
  t.test(`${ways} ways: the same victims as the stamp model`, (t) => {
    const sets = 5;
    const ring = new LruRing(sets, ways);
    const model = new StampModel(sets, ways);
    const rng = new Rng(0x4c5255 + ways);
    let bad = 0;
    let hitsMid = 0, invalidations = 0;
    for (let op = 0; op < 20000 && bad === 0; op++) {
      const set = rng.below(sets);
      const valid = model.used[set].map((u, w) => (u >= 0 ? w : -1)).filter((w) => w >= 0);
      const k = rng.below(100);
      if (k < 45 || valid.length === 0) { // a miss: fill the victim
        const v = ring.victim(set);
        if (v !== model.victim(set)) bad++;
        ring.filled(set);
        model.use(set, v);
      } else if (k < 90) { // a hit on any valid way
        const w = valid[rng.below(valid.length)];
        if (w !== model.victim(set) && valid.length > 2) hitsMid++;
        ring.touch(set, w);
        model.use(set, w);
      } else if (k < 99) { // CLFLUSH, a snoop's invalidation
        const w = valid[rng.below(valid.length)];
        ring.invalidate(set, w);
        model.invalidate(set, w);
        invalidations++;
      } else { // WBINVD of everything
        ring.clear();
        for (let s = 0; s < sets; s++) for (let w = 0; w < ways; w++) model.invalidate(s, w);
      }
      for (let s = 0; s < sets; s++) if (ring.victim(s) !== model.victim(s)) bad++;
    }
    t.equal(bad, 0, 'every victim matches after every step');
    if (ways > 2) t.ok(hitsMid > 1000, `hits on ways other than the victim were exercised (${hitsMid})`);
    t.ok(invalidations > 1000, `invalidations were exercised (${invalidations})`);
    t.end();
  });
}

t.test('a stream: filling the victim is one step of the ring', (t) => {
  const ring = new LruRing(1, 4);
  const seen: number[] = [];
  for (let i = 0; i < 8; i++) { seen.push(ring.victim(0)); ring.filled(0); }
  t.same(seen, [0, 1, 2, 3, 0, 1, 2, 3], 'invalid ways lowest first, then the oldest');
  ring.touch(0, 0); // oldest first: 1, 2, 3, 0
  t.equal(ring.victim(0), 1, 'a hit on the oldest makes it the newest');
  ring.touch(0, 2); // 1, 3, 0, 2
  t.equal(ring.victim(0), 1, 'a hit in the middle leaves the oldest');
  ring.invalidate(0, 3); // invalid 3; then 1, 0, 2
  t.equal(ring.victim(0), 3, 'an invalidated way is the next victim');
  ring.filled(0); // 1, 0, 2, 3
  t.equal(ring.victim(0), 1, 'then the oldest valid one again');
  ring.touch(0, 1); ring.touch(0, 0); // 2, 3, 1, 0
  t.equal(ring.victim(0), 2, 'hits reorder the rest');
  t.end();
});

t.test('way counts a byte cannot hold are refused', (t) => {
  t.throws(() => new LruRing(4, 256), RangeError);
  t.throws(() => new LruRing(4, 0), RangeError);
  t.end();
});
