/**
 * The buddy allocator: free-list invariants after boot and after random work, split
 * and merge, exhaustion, refcounts, node placement and fallback, bad frees that must
 * change nothing, __GFP_ZERO, and the per-page metadata budget.
 */
import t, { type Test } from 'tap';
import { memcpy_fromio, memcpy_toio, smp_call_function_single } from '../../arch/x86/include/asm/processor.js';
import { page_address } from '../../arch/x86/include/asm/page.js';
import { log_records } from '../../kernel/printk.js';
import { memblock_memory } from '../../mm/memblock.js';
import { PG_buddy, page_flags, page_meta_bytes, page_order, page_to_nid } from '../../mm/page.js';
import {
  GFP_KERNEL, GFP_USER, MAX_ORDER, __GFP_NOWARN, __GFP_THISNODE, __GFP_ZERO, __free_pages, alloc_pages,
  free_area_counts, free_list, get_page, max_pfn, node_free_pages, nr_free_pages, nr_online_nodes, page_count,
  page_is_free, put_page, totalram_pages,
} from '../../mm/page_alloc.js';
import { bootKernel, pagesInUse } from '../lib/boot.js';
import { EINVAL, ENOMEM } from '../../kernel/errno.js';

const MiB = 1024 * 1024;

/** Check that every free list, the page flags and the counters agree. */
function checkBuddy(t: Test): void {
  const problems: string[] = [];
  const seen = new Set<number>();
  let total = 0;
  for (let nid = 0; nid < nr_online_nodes(); nid++) {
    let nodeTotal = 0;
    for (let o = 0; o <= MAX_ORDER; o++) {
      const list = free_list(nid, o);
      if (list.length !== free_area_counts(nid)[o]) problems.push(`node ${nid} order ${o}: count mismatch`);
      for (const pfn of list) {
        if (seen.has(pfn)) problems.push(`pfn ${pfn} on two lists`);
        seen.add(pfn);
        if (!(page_flags[pfn] & PG_buddy)) problems.push(`pfn ${pfn} on a list without PG_buddy`);
        if (page_order[pfn] !== o) problems.push(`pfn ${pfn} order ${page_order[pfn]} on list ${o}`);
        if (pfn % 2 ** o !== 0) problems.push(`pfn ${pfn} misaligned for order ${o}`);
        if (page_to_nid(pfn) !== nid) problems.push(`pfn ${pfn} of node ${page_to_nid(pfn)} on node ${nid}`);
        for (let i = 1; i < 2 ** o; i++) if (page_flags[pfn + i] & PG_buddy) problems.push(`PG_buddy inside block ${pfn}`);
        // Fully merged: the buddy of a free block is not a free block of the same order.
        if (o < MAX_ORDER) {
          const buddy = pfn % 2 ** (o + 1) === 0 ? pfn + 2 ** o : pfn - 2 ** o;
          if (buddy < max_pfn && page_flags[buddy] & PG_buddy && page_order[buddy] === o && page_to_nid(buddy) === nid) {
            problems.push(`unmerged buddies ${pfn}/${buddy} order ${o}`);
          }
        }
        nodeTotal += 2 ** o;
      }
    }
    if (nodeTotal !== node_free_pages(nid)) problems.push(`node ${nid}: lists hold ${nodeTotal}, counter says ${node_free_pages(nid)}`);
    total += nodeTotal;
  }
  if (total !== nr_free_pages()) problems.push('nr_free_pages mismatch');
  t.same(problems.slice(0, 5), [], 'buddy invariants hold');
}

function errorsLogged(): string[] {
  return log_records().filter((r) => r.text.includes('Bad page state')).map((r) => r.text);
}

/** A small deterministic PRNG for the random workload. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => { s = (s * 1103515245 + 12345) % 2 ** 31; return s / 2 ** 31; };
}

t.test('boot state: all free RAM in maximal blocks, per node', (t) => {
  bootKernel();
  checkBuddy(t);
  t.equal(nr_online_nodes(), 2);
  t.equal(totalram_pages() - nr_free_pages(), pagesInUse(), 'all free but what the booted kernel holds');
  // 2 x 128 MiB, minus the first MiB (e820 reserved), the 4 MiB kernel, page tables and
  // the 1 MiB swiotlb pool.
  t.ok(nr_free_pages() > (256 - 7) * 256 && nr_free_pages() < (256 - 6) * 256, `free ${nr_free_pages()}`);
  t.equal(free_area_counts(1)[MAX_ORDER], 32, 'node 1 is 32 whole 4 MiB blocks');
  t.end();
});

t.test('split and merge', (t) => {
  bootKernel();
  const before = [free_area_counts(0), free_area_counts(1)];
  const free0 = nr_free_pages();
  const p = alloc_pages(GFP_KERNEL, 0, 0, 1);
  t.ok(p >= 0);
  t.equal(nr_free_pages(), free0 - 1);
  const after = free_area_counts(1);
  t.equal(after[MAX_ORDER], before[1][MAX_ORDER] - 1, 'one 4 MiB block split');
  for (let o = 0; o < MAX_ORDER; o++) t.equal(after[o], before[1][o] + 1, `one free block of order ${o} left over`);
  t.equal(p % 1024, 0, 'the lowest page of the split block');
  checkBuddy(t);
  __free_pages(p, 0);
  t.same([free_area_counts(0), free_area_counts(1)], before, 'freeing merges everything back');
  t.equal(nr_free_pages(), free0);
  checkBuddy(t);

  // Two buddies freed in either order merge.
  const a = alloc_pages(GFP_KERNEL, 3, 0, 1);
  const b = alloc_pages(GFP_KERNEL, 3, 0, 1);
  t.equal(Math.abs(a - b), 8, 'consecutive order-3 allocations are buddies');
  __free_pages(b, 3);
  t.notOk(page_is_free(a), 'a still allocated');
  t.ok(page_is_free(b + 7), 'every page of b is free');
  __free_pages(a, 3);
  t.same([free_area_counts(0), free_area_counts(1)], before);
  t.end();
});

t.test('random alloc/free keeps the invariants and returns to the start', (t) => {
  bootKernel();
  const start = [free_area_counts(0), free_area_counts(1)];
  const rnd = lcg(42);
  const held: [number, number][] = [];
  for (let i = 0; i < 3000; i++) {
    if (held.length && rnd() < 0.45) {
      const [pfn, order] = held.splice(Math.floor(rnd() * held.length), 1)[0];
      __free_pages(pfn, order);
    } else {
      const order = Math.floor(rnd() * rnd() * 6);
      const pfn = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
      if (pfn >= 0) {
        t.equal(pfn % 2 ** order, 0, 'aligned') || t.end();
        held.push([pfn, order]);
      }
    }
    if (i % 1000 === 999) checkBuddy(t);
  }
  // No two held blocks overlap.
  const pages = new Set<number>();
  let overlap = 0;
  for (const [pfn, order] of held) for (let i = 0; i < 2 ** order; i++) { if (pages.has(pfn + i)) overlap++; pages.add(pfn + i); }
  t.equal(overlap, 0, 'allocated blocks are disjoint');
  for (const [pfn, order] of held) __free_pages(pfn, order);
  checkBuddy(t);
  t.same([free_area_counts(0), free_area_counts(1)], start);
  t.same(errorsLogged(), []);
  t.end();
});

t.test('exhaustion', (t) => {
  bootKernel({ memPerNode: 32 * MiB, nvramSize: 0 });
  const total = nr_free_pages();
  const got: number[] = [];
  for (;;) {
    const p = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 0);
    if (p < 0) break;
    got.push(p);
  }
  t.equal(got.length, total, 'every free page handed out once');
  t.equal(new Set(got).size, got.length, 'no page twice');
  t.equal(nr_free_pages(), 0);
  t.equal(alloc_pages(GFP_KERNEL, 0), -ENOMEM, 'empty');
  t.ok(log_records().some((r) => r.text.includes('page allocation failure: order:0')), 'failure reported');
  // Reserved memory was never handed out.
  t.notOk(got.some((p) => p < 256), 'first MiB');
  t.notOk(got.some((p) => p >= 4096 && p < 5120), 'kernel image');
  // Free every other page: plenty of memory, but no order-1 block.
  for (let i = 0; i < got.length; i++) if (got[i] % 2 === 0) __free_pages(got[i], 0);
  t.ok(nr_free_pages() > 0);
  t.equal(alloc_pages(GFP_KERNEL | __GFP_NOWARN, 1), -ENOMEM, 'fragmented: no order-1 block');
  const again = alloc_pages(GFP_KERNEL, 0);
  t.ok(again >= 0 && again % 2 === 0, 'order 0 still works');
  __free_pages(again, 0);
  for (let i = 0; i < got.length; i++) if (got[i] % 2 !== 0) __free_pages(got[i], 0);
  t.equal(nr_free_pages(), total);
  t.ok(alloc_pages(GFP_KERNEL, MAX_ORDER) >= 0, 'merged back into 4 MiB blocks');
  checkBuddy(t);
  t.end();
});

t.test('refcounts: get_page / put_page / page_count', (t) => {
  bootKernel();
  const free0 = nr_free_pages();
  const p = alloc_pages(GFP_USER, 2);
  t.equal(page_count(p), 1);
  get_page(p);
  t.equal(page_count(p), 2);
  put_page(p);
  t.equal(page_count(p), 1);
  t.equal(nr_free_pages(), free0 - 4, 'still allocated');
  put_page(p);
  t.equal(page_count(p), 0);
  t.equal(nr_free_pages(), free0, 'freed with its allocation order');
  get_page(p);
  t.equal(page_count(p), 0, 'get_page on a free page refused');
  t.ok(errorsLogged().length > 0);
  t.end();
});

t.test('bad frees change nothing', (t) => {
  bootKernel();
  const p = alloc_pages(GFP_KERNEL, 2);
  const q = alloc_pages(GFP_KERNEL, 0);
  const free0 = nr_free_pages();
  const lists0 = [free_area_counts(0), free_area_counts(1)];
  const cases: [string, () => void][] = [
    ['wrong order', () => __free_pages(p, 1)],
    ['tail page', () => __free_pages(p + 1, 0)],
    ['out of range', () => __free_pages(max_pfn + 5, 0)],
    ['negative', () => __free_pages(-1, 0)],
    ['not a number', () => __free_pages(NaN, 0)],
    ['order too big', () => __free_pages(p, MAX_ORDER + 1)],
    ['reserved (kernel image)', () => __free_pages(4096, 0)],
    ['never allocated', () => __free_pages(max_pfn - 1, 0)],
  ];
  for (const [name, fn] of cases) {
    const n = errorsLogged().length;
    fn();
    t.equal(errorsLogged().length, n + 1, `${name}: reported`);
    t.equal(nr_free_pages(), free0, `${name}: nothing freed`);
  }
  t.same([free_area_counts(0), free_area_counts(1)], lists0);
  __free_pages(q, 0);
  const n = errorsLogged().length;
  __free_pages(q, 0);
  t.equal(errorsLogged().length, n + 1, 'double free reported');
  t.match(errorsLogged()[n], /double free/);
  t.equal(nr_free_pages(), free0 + 1, 'freed once only');
  __free_pages(p, 2);
  checkBuddy(t);
  t.end();
});

t.test('node placement and fallback', (t) => {
  const b = bootKernel();
  const node1 = memblock_memory().find((r) => r.nid === 1)!;
  const p1 = alloc_pages(GFP_KERNEL, 0, 0, 1);
  t.equal(page_to_nid(p1), 1);
  t.ok(p1 * 4096 >= node1.base && p1 * 4096 < node1.base + node1.size, 'inside node 1\'s memory');
  t.equal(page_to_nid(alloc_pages(GFP_KERNEL, 0)), 0, 'CPU 0 allocates on node 0');
  const cpuOnNode1 = b.bp.cpuNode.indexOf(1);
  t.ok(cpuOnNode1 > 0);
  const p = smp_call_function_single(cpuOnNode1, () => alloc_pages(GFP_KERNEL, 0));
  t.equal(page_to_nid(p), 1, 'a CPU of package 1 allocates on node 1');
  t.equal(alloc_pages(GFP_KERNEL, 0, 0, 7), -EINVAL, 'no node 7');
  t.equal(alloc_pages(GFP_KERNEL, 0, 0, -2), -EINVAL, 'no node -2');
  t.equal(alloc_pages(GFP_KERNEL, 0, 0, 0.5), -EINVAL, 'no node 0.5');
  t.equal(alloc_pages(GFP_KERNEL, 1.5, 0), -EINVAL, 'no order 1.5');
  t.equal(alloc_pages(GFP_KERNEL, 0, 1.5), -EINVAL, 'no KeyID 1.5');

  // Drain node 1 with __GFP_THISNODE, then fall back to node 0.
  while (alloc_pages(GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0, 0, 1) >= 0) { /* drain */ }
  t.equal(node_free_pages(1), 0);
  t.equal(alloc_pages(GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, 0, 0, 1), -ENOMEM, 'THISNODE: no fallback');
  const fb = alloc_pages(GFP_KERNEL, 0, 0, 1);
  t.equal(page_to_nid(fb), 0, 'fallback to node 0');
  checkBuddy(t);
  t.end();
});

t.test('__GFP_ZERO', (t) => {
  bootKernel();
  const p = alloc_pages(GFP_KERNEL, 1, 0, 1);
  memcpy_toio(page_address(p), new Uint8Array(8192).fill(0xa5));
  __free_pages(p, 1);
  const q = alloc_pages(GFP_KERNEL | __GFP_ZERO, 1, 0, 1);
  t.equal(q, p, 'same block back');
  const buf = new Uint8Array(8192);
  memcpy_fromio(page_address(q), buf);
  t.ok(buf.every((x) => x === 0), 'zeroed');
  const r = alloc_pages(GFP_KERNEL, 1, 0, 1);
  __free_pages(r, 1);
  t.end();
});

t.test('page metadata budget', (t) => {
  t.ok(page_meta_bytes() <= 16, `${page_meta_bytes()} bytes per page`);
  bootKernel();
  t.equal(page_flags.length, max_pfn, 'arrays cover exactly max_pfn pages');
  t.end();
});
