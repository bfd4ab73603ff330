/**
 * The TLB's index (typed-array chains per bucket of page-number bits) against a plain
 * model: random inserts, lookups, INVLPG and CR3 flushes at page numbers above 2^32,
 * with colliding buckets, give the same entries as a Map with round-robin replacement.
 */
import t from 'tap';
import { Tlb, TLB_GLOBAL } from '../../arch/x86/hw/tlb.js';
import { Rng } from '../../arch/x86/hw/rng.js';

interface Entry { vpn: number; pa: number; flags: number; size: number }

t.test('Tlb matches a Map model under random use', (t) => {
  const size = 64;
  const tlb = new Tlb(size);
  const model: (Entry | null)[] = new Array(size).fill(null);
  let next = 0;
  const rng = new Rng(42);
  // Page numbers: a few hundred, many sharing their low 8 bits (the bucket), some above 2^32.
  const vpns = Array.from({ length: 300 }, (_, i) => (i % 3 === 0 ? 2 ** 35 : 0) + (i % 40) * 256 + Math.floor(i / 40));
  const find = (vpn: number): number => model.findIndex((e) => e !== null && e.vpn === vpn);
  let bad = 0;
  for (let op = 0; op < 20000; op++) {
    const k = rng.below(100);
    const vpn = vpns[rng.below(vpns.length)];
    if (k < 50) {
      const flags = rng.below(2) ? TLB_GLOBAL : 0, pa = rng.below(1 << 20) * 4096;
      tlb.insert(vpn, pa, flags, 4096);
      let s = find(vpn);
      if (s < 0) { s = next; next = (next + 1) % size; }
      model[s] = { vpn, pa, flags, size: 4096 };
    } else if (k < 90) {
      const s = tlb.lookup(vpn), m = find(vpn);
      if (s !== m || (s >= 0 && (tlb.physPage(s) !== model[m]!.pa || tlb.flagsOf(s) !== model[m]!.flags))) bad++;
    } else if (k < 97) {
      tlb.invalidatePage(vpn * 4096 + 123);
      const s = find(vpn);
      if (s >= 0) model[s] = null;
    } else {
      const keep = rng.below(2) === 1;
      tlb.flush(keep);
      for (let s = 0; s < size; s++) if (model[s] && !(keep && model[s]!.flags & TLB_GLOBAL)) model[s] = null;
    }
    if (tlb.count() !== model.filter((e) => e !== null).length) bad++;
  }
  t.equal(bad, 0, 'every lookup and count agrees with the model');
  t.end();
});
