/**
 * Benchmark section "boot": the physical memory manager on a booted 16 GiB kernel.
 *
 *   alloc_pair_ns    median cost of one order-0 alloc_pages + __free_pages (KeyID 0,
 *                    no KeyID change, so no flushes), over 31 batches of 10 000 pairs
 *   page_meta_bytes  per-page metadata (mm/page.ts arrays), bytes
 */
import { GiB, makeConfig } from '../arch/x86/hw/config.js';
import { Machine } from '../arch/x86/hw/machine.js';
import { start_kernel } from '../init/main.js';
import { page_meta_bytes } from '../mm/page.js';
import { GFP_KERNEL, __free_pages, alloc_pages } from '../mm/page_alloc.js';
import type { Goals } from './types.js';

export const goals: Goals = {
  alloc_pair_ns: { max: 1000 },
  page_meta_bytes: { max: 16 },
};

function batch(n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) __free_pages(alloc_pages(GFP_KERNEL, 0), 0);
  return Number(process.hrtime.bigint() - t0) / n;
}

export async function run(): Promise<Record<string, number>> {
  const machine = new Machine(makeConfig({ memPerNode: 8 * GiB }));
  start_kernel(machine.bootParams(''), null);
  // Some memory in use, so pairs do not always split and merge a whole 4 MiB block.
  const held: number[] = [];
  for (let i = 0; i < 1000; i++) held.push(alloc_pages(GFP_KERNEL, i % 3));
  batch(100_000); // warm up
  const samples: number[] = [];
  for (let i = 0; i < 31; i++) samples.push(batch(10_000));
  samples.sort((a, b) => a - b);
  held.forEach((pfn, i) => __free_pages(pfn, i % 3));
  return {
    alloc_pair_ns: Math.round(samples[15] * 10) / 10,
    page_meta_bytes: page_meta_bytes(),
  };
}
