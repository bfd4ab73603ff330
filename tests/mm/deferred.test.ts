/**
 * DEFERRED_STRUCT_PAGE_INIT (mm/page_alloc.ts): the max-order blocks counted free at boot
 * but not yet threaded onto a list are handed out exactly as the eagerly built list would
 * hand them out (highest address first, after anything freed back), and a machine of
 * 1 TiB boots with its totals right.
 */
import t from 'tap';
import {
  GFP_KERNEL, MAX_ORDER, __GFP_NOWARN, __GFP_THISNODE, __GFP_ZERO, __free_pages, alloc_pages, free_area_counts, free_list,
  node_free_pages, page_is_free,
} from '../../mm/page_alloc.js';
import { bootKernel, GiB, MiB } from '../lib/boot.js';

t.test('waiting blocks come out highest first, after blocks freed back, and go back on the list', (t) => {
  bootKernel({ memPerNode: 256 * MiB, nvramSize: 0 });
  const before = free_list(1, MAX_ORDER);
  t.equal(before.length, free_area_counts(1)[MAX_ORDER], 'free_list counts the waiting blocks');
  t.same(before, [...before].sort((a, b) => b - a), 'an eager list filled in address order: highest first');
  t.ok(page_is_free(before[before.length - 1] + 5), 'a page inside a waiting block is free');
  const got: number[] = [];
  for (let i = 0; i < 3; i++) got.push(alloc_pages(GFP_KERNEL | __GFP_THISNODE, MAX_ORDER, 0, 1));
  t.same(got, before.slice(0, 3), 'handed out in list order');
  __free_pages(got[1], MAX_ORDER);
  t.equal(alloc_pages(GFP_KERNEL | __GFP_THISNODE, MAX_ORDER, 0, 1), got[1], 'a block freed back comes first (LIFO)');
  const small = alloc_pages(GFP_KERNEL | __GFP_THISNODE, 0, 0, 1);
  t.ok(small >= 0, 'an order-0 request splits a block');
  // Drain the node: every block exactly once, then failure.
  const all = new Set<number>([...got, small]);
  for (;;) {
    const p = alloc_pages(GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, MAX_ORDER, 0, 1);
    if (p < 0) break;
    if (all.has(p)) t.fail(`block ${p} handed out twice`);
    all.add(p);
  }
  t.equal(free_area_counts(1)[MAX_ORDER], 0, 'no max-order block left on node 1');
  t.end();
});

t.test('a 1 TiB machine (two 512 GiB nodes) boots with every page counted', (t) => {
  const { log } = bootKernel({ memPerNode: 512 * GiB, nvramSize: 0 });
  const mem = log.find((l) => l.startsWith('Memory: '))!;
  const [avail, total] = /^Memory: (\d+)K\/(\d+)K/.exec(mem)!.slice(1).map(Number);
  t.equal(total, 1024 * 1024 * 1024 - 1024, '1 TiB of RAM but the first MiB (the board reserves it), in KiB');
  t.ok(avail > total - 64 * 1024 && avail <= total, `${avail}K available`);
  t.equal(node_free_pages(1), free_area_counts(1).reduce((n, c, o) => n + c * 2 ** o, 0), 'node 1: counts agree');
  t.end();
});

t.test('clear_page with MOVDIR64B: a zeroed page is not left in the cache', (t) => {
  const cpu = { tme: true, pconfig: true, maxKeyIdBits: 6, maxKeys: 63, maxPhysAddr: 46,
    algs: ['aes-xts-128', 'aes-xts-256'] as ('aes-xts-128' | 'aes-xts-256')[], bypassSupported: true, pconfigRev: 'sdm' as const };
  const cached = (movdir64b: boolean): number => {
    const { machine } = bootKernel({ memPerNode: 64 * MiB, nvramSize: 0, cpu: { ...cpu, movdir64b } });
    const pfn = alloc_pages(GFP_KERNEL | __GFP_ZERO, 0, 1); // prep_encrypted_page zeroes it under KeyID 1
    const pa = 2 ** machine.packages[0].engine.addrBits + pfn * 4096; // its KeyID-1 alias
    let n = 0;
    for (let off = 0; off < 4096; off += 64) n += machine.caches.peek(pa + off).length;
    return n;
  };
  t.equal(cached(false), 64, 'REP STOSB: all 64 lines sit in the cache');
  t.equal(cached(true), 0, 'MOVDIR64B: none');
  t.end();
});
