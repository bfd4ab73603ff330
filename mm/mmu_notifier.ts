/**
 * MMU notifiers (Linux mm/mmu_notifier.c, include/linux/mmu_notifier.h): secondary MMUs
 * that map an mm's pages, such as KVM's EPT, are told before the primary page tables
 * lose a range, so they can drop their own mappings first. unmap_page_range and
 * change_protection call mmu_notifier_invalidate_range_start before they clear PTEs; the
 * pages are freed (and, with a KeyID, flushed by free_encrypted_page) only after the
 * TLB flush that follows. That gives the MKTME spec's EvictPage order for guest memory:
 * remove from EPT, INVEPT, flush the old KeyID's lines.
 */
import type { mm_struct } from './vma.js';

export interface mmu_notifier_ops {
  /** [start, end) of `mm` is about to be unmapped or change protection. */
  invalidate_range_start(mn: mmu_notifier, mm: mm_struct, start: number, end: number): void;
  /** The mm is being torn down (exit_mmap). */
  release?(mn: mmu_notifier, mm: mm_struct): void;
}

export interface mmu_notifier { ops: mmu_notifier_ops }

const subscriptions = new WeakMap<mm_struct, mmu_notifier[]>();

/** mmu_notifier_register: `mn` hears about `mm` from now on. */
export function mmu_notifier_register(mn: mmu_notifier, mm: mm_struct): number {
  const list = subscriptions.get(mm) ?? [];
  if (!list.includes(mn)) list.push(mn);
  subscriptions.set(mm, list);
  return 0;
}

export function mmu_notifier_unregister(mn: mmu_notifier, mm: mm_struct): void {
  const list = subscriptions.get(mm);
  if (list) subscriptions.set(mm, list.filter((m) => m !== mn));
}

export function mmu_notifier_invalidate_range_start(mm: mm_struct, start: number, end: number): void {
  const list = subscriptions.get(mm);
  if (!list || start >= end) return;
  for (const mn of [...list]) mn.ops.invalidate_range_start(mn, mm, start, end);
}

export function mmu_notifier_release(mm: mm_struct): void {
  const list = subscriptions.get(mm);
  if (!list) return;
  subscriptions.delete(mm);
  for (const mn of list) mn.ops.release?.(mn, mm);
}
