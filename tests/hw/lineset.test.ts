/**
 * The write-combining queue's set of queued lines (arch/x86/hw/lineset.ts, kept by page
 * with a mask of lines) against a JS Set: random runs added, single lines and ranges
 * asked about across page edges and the 32-line word edge, addresses above 2^32 and
 * pages whose table slots collide, clears between rounds.
 */
import t from 'tap';
import { LineSet, LINESET_MAX } from '../../arch/x86/hw/lineset.js';
import { Rng } from '../../arch/x86/hw/rng.js';

const PAGE = 4096, LINE = 64;

t.test('LineSet matches a Set under random runs and questions', (t) => {
  const set = new LineSet();
  const rng = new Rng(0x6c696e65);
  // Pages: some 16 MiB apart (the same table slot), some above 2^32 and 2^40.
  const pages = Array.from({ length: 40 }, (_, i) => [0, 2 ** 33, 2 ** 41][i % 3] + (i % 7) * 2 ** 24 + i * PAGE);
  let bad = 0, asked = 0, yes = 0;
  for (let round = 0; round < 200; round++) {
    set.clear();
    const model = new Set<number>();
    for (let r = 0; r < 30; r++) {
      const page = pages[rng.below(pages.length)];
      const i0 = rng.below(64), n = 1 + rng.below(64 - i0);
      set.addRun(page + i0 * LINE, n);
      for (let i = i0; i < i0 + n; i++) model.add(page + i * LINE);
    }
    for (let q = 0; q < 60; q++) {
      const page = pages[rng.below(pages.length)];
      const at = page + rng.below(64) * LINE;
      if (set.has(at) !== model.has(at)) bad++;
      const len = (1 + rng.below(200)) * LINE; // up to about three pages
      let want = false;
      for (let a = at; a < at + len; a += LINE) if (model.has(a)) want = true;
      if (set.hasRange(at, len) !== want) bad++;
      asked++;
      if (want) yes++;
    }
  }
  t.equal(bad, 0, 'every answer matches');
  t.ok(yes > asked / 10 && yes < asked * 0.9, `both answers were asked for (${yes} of ${asked} ranges held a line)`);
  t.end();
});

t.test('the word edges and the limits', (t) => {
  const set = new LineSet();
  set.addRun(5 * PAGE + 31 * LINE, 2); // lines 31 and 32
  t.ok(set.has(5 * PAGE + 31 * LINE) && set.has(5 * PAGE + 32 * LINE), 'a run across the two words');
  t.notOk(set.has(5 * PAGE + 30 * LINE) || set.has(5 * PAGE + 33 * LINE), 'and nothing beside it');
  set.addRun(6 * PAGE, 64);
  t.ok(set.has(6 * PAGE + 63 * LINE), 'a whole page');
  t.notOk(set.hasRange(5 * PAGE + 33 * LINE, 31 * LINE), 'a range just after a run');
  t.ok(set.hasRange(5 * PAGE + 33 * LINE, 32 * LINE), 'a range reaching into the next page');
  t.throws(() => set.addRun(7 * PAGE + 60 * LINE, 5), RangeError, 'a run may not cross a page');
  set.clear();
  t.notOk(set.has(6 * PAGE), 'empty after clear');
  for (let p = 0; p < LINESET_MAX; p++) set.addRun(p * PAGE, 1);
  t.throws(() => set.addRun(LINESET_MAX * PAGE, 1), RangeError, 'no more than LINESET_MAX pages');
  t.end();
});
