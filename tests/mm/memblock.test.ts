/**
 * memblock: RAM ranges and their nodes from e820 + affinity, the reserved first MiB
 * and kernel image, `mem=`, early allocations (alignment, zeroing, reservation), and
 * the hand-over to the buddy allocator.
 */
import t from 'tap';
import { Machine } from '../../arch/x86/hw/machine.js';
import { makeConfig } from '../../arch/x86/hw/config.js';
import { E820_TYPE_PMEM, E820_TYPE_RAM } from '../../arch/x86/hw/isa.js';
import { memcpy_fromio, memcpy_toio, set_cpu_possible } from '../../arch/x86/include/asm/processor.js';
import { mktme_mm_init } from '../../arch/x86/mm/mktme.js';
import { log_records, printk_init } from '../../kernel/printk.js';
import {
  KERNEL_END, KERNEL_TEXT, e820_table, for_each_free_mem_range, memblock_alloc, memblock_end_of_DRAM,
  memblock_memory, memblock_phys_alloc, memblock_phys_mem_size, memblock_reserve, memblock_reserved, memblock_setup,
} from '../../mm/memblock.js';
import { max_pfn, node_managed_pages, nr_free_pages, totalram_pages } from '../../mm/page_alloc.js';
import { bootKernel, pagesInUse } from '../lib/boot.js';
import { EINVAL, ENOMEM } from '../../kernel/errno.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** memblock alone, on a fresh machine (paging off, nothing else set up). */
function early(patch: Parameters<typeof makeConfig>[0] = {}, limit: number | null = null): Machine {
  const m = new Machine(makeConfig(patch));
  const bp = m.bootParams('');
  printk_init(null);
  set_cpu_possible(bp.cpus);
  mktme_mm_init();
  memblock_setup(bp.e820, bp.memAffinity, limit);
  return m;
}

t.test('RAM ranges with their nodes', (t) => {
  early({ packages: 3, memPerNode: 2 * GiB, nvramSize: 0 });
  // Node 0: [1 MiB, 2 GiB); node 1: [2 GiB, 3 GiB) + [4 GiB, 5 GiB) across the PCI hole; node 2 after.
  t.same(memblock_memory().map((r) => [r.base / MiB, r.size / MiB, r.nid]), [
    [1, 2047, 0], [2048, 1024, 1], [4096, 1024, 1], [5120, 2048, 2],
  ]);
  t.equal(memblock_end_of_DRAM(), 7 * GiB);
  t.equal(memblock_phys_mem_size(), 6 * GiB - MiB);
  t.same(memblock_reserved().map((r) => [r.base, r.size]), [[0, MiB], [KERNEL_TEXT, KERNEL_END - KERNEL_TEXT]]);
  t.end();
});

t.test('free ranges skip every reservation', (t) => {
  early();
  memblock_reserve(100 * MiB + 100, 10);    // rounded out to whole pages
  const ranges: [number, number, number][] = [];
  for_each_free_mem_range((s, e, nid) => ranges.push([s, e, nid]));
  t.same(ranges, [
    [MiB, KERNEL_TEXT, 0],
    [KERNEL_END, 100 * MiB, 0],
    [100 * MiB + 4096, 128 * MiB, 0],
    [128 * MiB, 256 * MiB, 1],
  ]);
  t.end();
});

t.test('early allocations', (t) => {
  early();
  const a = memblock_phys_alloc(4096, 4096);
  t.equal(a, KERNEL_END, 'bottom-up from the end of the kernel image');
  const b = memblock_phys_alloc(100, 2 * MiB);
  t.equal(b % (2 * MiB), 0, 'aligned');
  t.ok(b > a);
  const c = memblock_phys_alloc(4096, 4096);
  t.equal(c, a + 4096, 'the gap below b is used next');
  t.ok(memblock_reserved().some((r) => r.base <= b && r.base + r.size >= b + 4096), 'b reserved (whole page)');
  t.equal(memblock_phys_alloc(1024 * MiB, 4096), -ENOMEM, 'too big');
  t.equal(memblock_phys_alloc(0, 4096), -EINVAL, 'zero size');
  // memblock_alloc zeroes (paging is off here: linear = physical).
  memcpy_toio(KERNEL_END + 2 * 4096, new Uint8Array(4096).fill(7));
  const z = memblock_alloc(4096, 4096);
  t.equal(z, KERNEL_END + 2 * 4096);
  const buf = new Uint8Array(4096);
  memcpy_fromio(z, buf);
  t.ok(buf.every((x) => x === 0), 'zeroed');
  t.end();
});

t.test('mem= trims RAM above the limit', (t) => {
  const b = bootKernel({ cmdline: `mem=${200 * MiB + 123}` });
  t.equal(memblock_end_of_DRAM(), 200 * MiB, 'page-aligned down');
  t.equal(max_pfn, 200 * 256);
  t.same(memblock_memory().map((r) => [r.base / MiB, r.size / MiB, r.nid]), [[1, 127, 0], [128, 72, 1]]);
  t.equal(node_managed_pages(1), 72 * 256, 'node 1 keeps 72 MiB');
  t.ok(e820_table().some((e) => e.type === E820_TYPE_PMEM), 'persistent memory is not RAM: kept');
  t.notOk(e820_table().some((e) => e.type === E820_TYPE_RAM && e.addr + e.size > 200 * MiB));
  t.ok(b.console.some((l) => l.includes('user-defined physical RAM map:')));
  t.ok(b.console.some((l) => l.includes('user: [mem 0x0000000008000000-0x000000000c7fffff] usable')));
  t.end();
});

t.test('mem= below the kernel image is refused', (t) => {
  early({}, 8 * MiB);
  t.equal(memblock_end_of_DRAM(), KERNEL_END);
  t.ok(log_records().some((r) => /mem=.*below the end of the kernel image/.test(r.text)));
  t.end();
});

t.test('mem_init hands exactly the free ranges to the buddy allocator', (t) => {
  const b = bootKernel();
  let expect = 0;
  // After init_mem_mapping the page tables are reserved too; mem_init froze memblock.
  for_each_free_mem_range((s, e) => { expect += (e - s) / 4096; });
  t.equal(totalram_pages(), expect);
  t.equal(nr_free_pages(), expect - pagesInUse());
  t.equal(memblock_phys_alloc(4096, 4096), -ENOMEM, 'memblock is closed after mem_init');
  t.match(b.console.find((l) => l.includes('Memory: ')) ?? '',
    /Memory: \d+K\/261120K available \(2048K kernel code, 512K rwdata, 1024K rodata, 0K init, 512K bss, \d+K reserved, 0K cma-reserved\)/);
  t.end();
});
