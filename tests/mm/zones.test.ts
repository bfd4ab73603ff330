/**
 * x86-64 zones in the buddy allocator (tool-fidelity row B1): DMA below 16 MiB, DMA32
 * below 4 GiB, Normal above, per node; /proc/buddyinfo lists each populated zone; an
 * allocation takes the highest zone its gfp allows and falls back downwards, then to
 * the other node.
 */
import t from 'tap';
import { vfs_read } from '../../fs/proc/generic.js';
import {
  GFP_DMA, GFP_DMA32, GFP_KERNEL, MAX_DMA32_PFN, MAX_DMA_PFN, MAX_ORDER, ZONE_DMA, ZONE_DMA32, ZONE_NORMAL,
  __GFP_NOWARN, __GFP_THISNODE, __free_pages, alloc_pages, page_zonenum, populated_zone,
} from '../../mm/page_alloc.js';
import { page_to_nid } from '../../mm/page.js';
import { GiB, MiB, bootKernel } from '../lib/boot.js';

t.test('zones of a machine with memory above 4 GiB', (t) => {
  bootKernel({ memPerNode: 3 * GiB, nvramSize: 0 });
  // node 0: [1 MiB, 3 GiB); node 1 continues above the PCI hole at 4 GiB.
  t.same([populated_zone(0, ZONE_DMA), populated_zone(0, ZONE_DMA32), populated_zone(0, ZONE_NORMAL)], [true, true, false]);
  t.same([populated_zone(1, ZONE_DMA), populated_zone(1, ZONE_DMA32), populated_zone(1, ZONE_NORMAL)], [false, false, true]);
  const text = vfs_read('/proc/buddyinfo') as string;
  t.same(text.split('\n').map((l) => l.slice(0, 21)), ['Node 0, zone      DMA', 'Node 0, zone    DMA32', 'Node 1, zone   Normal', '']);

  const k = alloc_pages(GFP_KERNEL, 0, 0, 1);
  t.equal(page_zonenum(k), ZONE_NORMAL, 'GFP_KERNEL on node 1: Normal');
  const d32 = alloc_pages(GFP_DMA32, 0, 0, 1);
  t.ok(d32 >= 0 && d32 < MAX_DMA32_PFN && page_to_nid(d32) === 0, 'GFP_DMA32 from node 1 falls back to node 0\'s DMA32');
  const d = alloc_pages(GFP_DMA, 0);
  t.ok(d >= 0 && d < MAX_DMA_PFN, 'GFP_DMA below 16 MiB');
  t.equal(alloc_pages(GFP_DMA32 | __GFP_THISNODE | __GFP_NOWARN, 0, 0, 1) < 0, true, 'node 1 has no DMA32');
  for (const p of [k, d32, d]) __free_pages(p, 0);
  t.end();
});

t.test('GFP_KERNEL falls back from DMA32 to DMA; GFP_DMA never goes up', (t) => {
  bootKernel({ memPerNode: 64 * MiB, nvramSize: 0 });
  const dmas: number[] = [];
  for (let p; (p = alloc_pages(GFP_DMA | __GFP_NOWARN, 0)) >= 0;) dmas.push(p);
  t.ok(dmas.length > 0 && dmas.every((p) => p < MAX_DMA_PFN), 'GFP_DMA takes only DMA pages, until there are none');
  const k = alloc_pages(GFP_KERNEL, 0);
  t.ok(k >= MAX_DMA_PFN, 'while DMA32 still has free pages');
  for (const p of [...dmas, k]) __free_pages(p, 0);
  const got: number[] = [];
  for (;;) {
    const p = alloc_pages(GFP_KERNEL | __GFP_THISNODE | __GFP_NOWARN, MAX_ORDER, 0, 0);
    if (p < 0) break;
    got.push(p);
  }
  const zones = got.map(page_zonenum);
  const firstDma = zones.indexOf(ZONE_DMA);
  t.ok(firstDma > 0 && zones.slice(0, firstDma).every((z) => z === ZONE_DMA32) && zones.slice(firstDma).every((z) => z === ZONE_DMA),
    'DMA32 is used up before DMA is touched');
  for (const p of got.filter((x) => page_zonenum(x) === ZONE_DMA)) __free_pages(p, MAX_ORDER);
  const dma = alloc_pages(GFP_DMA | __GFP_NOWARN, MAX_ORDER);
  t.ok(dma >= 0 && dma < MAX_DMA_PFN);
  __free_pages(dma, MAX_ORDER);
  for (const p of got.filter((x) => page_zonenum(x) === ZONE_DMA32)) __free_pages(p, MAX_ORDER);
  t.end();
});
