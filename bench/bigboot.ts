/**
 * Benchmark section "bigboot": a 1 TiB machine (two nodes of 512 GiB) from power-on to
 * the shell prompt, the way `make run --mem 512G` boots it, in a fresh Node process.
 *
 *   boot_1t_ms      host milliseconds for the shell's boot path (Machine, BIOS,
 *                   start_kernel, initcalls, init), median of 3 processes
 *   boot_1t_rss_mb  that process's resident memory at the prompt (the largest of the 3)
 *
 * What makes it fast is Linux's: struct pages initialised lazily
 * (DEFERRED_STRUCT_PAGE_INIT) and memory freed to the buddy allocator in max-order
 * blocks (mm/page_alloc.ts), on a sparse DRAM that costs nothing until touched.
 */
import { freshBoot } from './freshboot.js';
import type { Goals } from './types.js';

export const goals: Goals = {
  boot_1t_ms: { max: 2000 },
};

function once(): [ms: number, rss: number] {
  const b = freshBoot(['--nodes', '2', '--mem', '512G']);
  return [b.ms, b.rssBytes];
}

export async function run(): Promise<Record<string, number>> {
  const runs = [once(), once(), once()];
  const ms = runs.map((r) => r[0]).sort((a, b) => a - b);
  const rss = Math.max(...runs.map((r) => r[1]));
  return {
    boot_1t_ms: Math.round(ms[1] * 10) / 10,
    boot_1t_rss_mb: Math.round(rss / (1024 * 1024)),
  };
}
