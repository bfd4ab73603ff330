/**
 * Global page-state counters (a small Linux mm/vmstat.c): what /proc/meminfo reports
 * beyond the allocator's own free/managed counts. Other subsystems account their pages
 * with mod_node_page_state (the processes code: anonymous pages, page tables). The
 * counters are pages, except NR_KERNEL_STACK_KB. vmstat_init() zeroes them for a boot.
 */

export const NR_ANON_PAGES = 0;
export const NR_FILE_MAPPED = 1;
export const NR_FILE_PAGES = 2;
export const NR_SHMEM = 3;
export const NR_PAGETABLE = 4;
export const NR_KERNEL_STACK_KB = 5;
export const NR_SLAB_UNRECLAIMABLE = 6;
export const NR_VM_STAT_ITEMS = 7;

let counters = new Float64Array(NR_VM_STAT_ITEMS);

export function vmstat_init(): void { counters = new Float64Array(NR_VM_STAT_ITEMS); }

/** Add `delta` (may be negative) to counter `item`. */
export function mod_node_page_state(item: number, delta: number): void {
  if (item >= 0 && item < NR_VM_STAT_ITEMS) counters[item] += delta;
}

/** The counter's current value (never below 0 when read). */
export function global_node_page_state(item: number): number {
  return item >= 0 && item < NR_VM_STAT_ITEMS ? Math.max(0, counters[item]) : 0;
}
