/**
 * Address-space switching and TLB shootdown (Linux arch/x86/mm/tlb.c).
 *
 * Each CPU remembers which mm its CR3 holds (cpu_tlbstate.loaded_mm; null is init_mm,
 * the kernel's own tables). switch_mm() loads another mm's pgd with a CR3 write, which
 * drops every non-global TLB entry, so the CPU leaves the old mm's cpumask and joins
 * the new one's. A CPU that goes idle keeps its mm loaded (lazy TLB mode) and stays in
 * the cpumask: it may still hold that mm's translations.
 *
 * flush_tlb_mm_range() therefore flushes on every CPU in mm_cpumask: the local CPU
 * directly, the others by a synchronous cross-call (Linux's flush_tlb_others IPI), with
 * INVLPG per page up to tlb_single_page_flush_ceiling (33) pages and a full CR3 reload
 * beyond, or when page tables were freed. Counters keep Linux's vmstat names.
 */
import {
  __flush_tlb_local, __flush_tlb_one, nr_cpu_ids, smp_call_function_single_async, smp_processor_id, write_cr3,
} from '../include/asm/processor.js';
import { init_mm_pgd } from './init.js';
import type { mm_struct } from '../../../mm/vma.js';
import { PAGE_SIZE } from '../include/asm/pgtable_types.js';

/** Linux's tlb_single_page_flush_ceiling. */
export const tlb_single_page_flush_ceiling = 33;

let loaded_mm: (mm_struct | null)[] = [];

/** vmstat TLB counters (CONFIG_DEBUG_TLBFLUSH's NR_TLB_* events). */
export const tlb_stats = {
  nr_tlb_remote_flush: 0,
  nr_tlb_remote_flush_received: 0,
  nr_tlb_local_flush_all: 0,
  nr_tlb_local_flush_one: 0,
};

/** Boot: every CPU runs on init_mm's tables; counters zeroed. */
export function tlb_init(): void {
  loaded_mm = new Array<mm_struct | null>(nr_cpu_ids()).fill(null);
  tlb_stats.nr_tlb_remote_flush = tlb_stats.nr_tlb_remote_flush_received = 0;
  tlb_stats.nr_tlb_local_flush_all = tlb_stats.nr_tlb_local_flush_one = 0;
}

/** The mm whose tables `cpu`'s CR3 holds (null: init_mm). */
export function cpu_loaded_mm(cpu: number): mm_struct | null {
  return loaded_mm[cpu] ?? null;
}

/**
 * switch_mm_irqs_off on the current CPU: load `next` (null: init_mm). Nothing to do if
 * it is already loaded (e.g. returning from lazy mode to the same mm).
 */
export function switch_mm(next: mm_struct | null): void {
  const cpu = smp_processor_id();
  const prev = loaded_mm[cpu] ?? null;
  if (prev === next) return;
  write_cr3(next ? next.pgd : init_mm_pgd());
  if (prev) prev.cpumask.delete(cpu);
  if (next) next.cpumask.add(cpu);
  loaded_mm[cpu] = next;
}

/**
 * Make sure no CPU holds `mm` any more (before its page tables are freed): each CPU in
 * its cpumask, lazy or not, switches to init_mm.
 */
export function mm_drop_all_cpus(mm: mm_struct): void {
  for (const cpu of [...mm.cpumask]) smp_call_function_single_async(cpu, () => switch_mm(null));
}

function flush_tlb_func(start: number, end: number, full: boolean): void {
  if (full) {
    __flush_tlb_local();
    tlb_stats.nr_tlb_local_flush_all++;
    return;
  }
  for (let va = start; va < end; va += PAGE_SIZE) {
    __flush_tlb_one(va);
    tlb_stats.nr_tlb_local_flush_one++;
  }
}

/**
 * flush_tlb_mm_range: drop `mm`'s translations of [start, end) on every CPU that may
 * hold them. `freed_tables` forces a full flush (paging-structure caches).
 */
export function flush_tlb_mm_range(mm: mm_struct, start: number, end: number, freed_tables = false): void {
  const full = freed_tables || (end - start) / PAGE_SIZE > tlb_single_page_flush_ceiling;
  const self = smp_processor_id();
  let remote = false;
  for (const cpu of [...mm.cpumask]) {
    if (loaded_mm[cpu] !== mm) continue; // stale bit: its CR3 write already flushed
    if (cpu === self) {
      flush_tlb_func(start, end, full);
    } else {
      remote = true;
      tlb_stats.nr_tlb_remote_flush_received++;
      smp_call_function_single_async(cpu, () => flush_tlb_func(start, end, full));
    }
  }
  if (remote) tlb_stats.nr_tlb_remote_flush++;
}

/** flush_tlb_page: one page of `mm`. */
export function flush_tlb_page(mm: mm_struct, addr: number): void {
  flush_tlb_mm_range(mm, addr, addr + PAGE_SIZE);
}

/** flush_tlb_mm: all of `mm`'s user translations. */
export function flush_tlb_mm(mm: mm_struct): void {
  flush_tlb_mm_range(mm, 0, 2 ** 47, true);
}
