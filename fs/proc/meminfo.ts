/**
 * /proc/meminfo (Linux fs/proc/meminfo.c meminfo_proc_show, plus x86's
 * arch_report_meminfo DirectMap lines). Values are "%8lu kB" after a label padded to
 * 16 columns, as show_val_kb prints them. There is no page cache, swap, slab or
 * hugetlb in this kernel, so those lines are 0; they are kept so tools that parse
 * Linux's file find the fields they expect (6.8's set, with CONFIG_ZSWAP,
 * CONFIG_MEMORY_FAILURE and CONFIG_TRANSPARENT_HUGEPAGE as distributions build it).
 * DirectMap counts KeyID 0's mapping only, like Linux (the other KeyIDs' aliases of the
 * same memory are not more memory).
 *
 * CommitLimit is vm_commit_limit(): (RAM - hugetlb) * overcommit_ratio (50) / 100 +
 * swap, in pages. Committed_AS is vm_committed_as: the pages of every VM_ACCOUNT mapping
 * (private writable memory). VmallocTotal is the size of the vmalloc area.
 */
import { direct_map_counts } from '../../arch/x86/mm/init.js';
import { nr_free_pages, totalram_pages } from '../../mm/page_alloc.js';
import {
  NR_ANON_PAGES, NR_FILE_MAPPED, NR_FILE_PAGES, NR_KERNEL_STACK_KB, NR_PAGETABLE, NR_SHMEM,
  NR_SLAB_UNRECLAIMABLE, global_node_page_state,
} from '../../mm/vmstat.js';
import { proc_create } from './generic.js';
import { VMALLOC_END, VMALLOC_START } from '../../arch/x86/include/asm/pgtable_64_types.js';
import { for_each_process } from '../../kernel/sched.js';
import { VM_ACCOUNT } from '../../mm/vma.js';
import { PAGE_SIZE } from '../../arch/x86/include/asm/pgtable_types.js';

/** /proc/sys/vm/overcommit_ratio. */
export const sysctl_overcommit_ratio = 50;

/** vm_commit_limit(): pages that may be committed (no hugetlb, no swap here). */
export function vm_commit_limit(): number {
  return Math.floor((totalram_pages() * sysctl_overcommit_ratio) / 100);
}

/** vm_committed_as: pages of VM_ACCOUNT mappings, over every address space. */
export function vm_memory_committed(): number {
  let pages = 0;
  for (const t of for_each_process()) {
    for (const vma of t.mm?.mmap ?? []) if (vma.vm_flags & VM_ACCOUNT) pages += (vma.vm_end - vma.vm_start) / PAGE_SIZE;
  }
  return pages;
}

const PAGE_KB = 4;

function kb(label: string, value: number): string {
  return `${(label + ':').padEnd(16)}${String(value).padStart(8)} kB\n`;
}

export function meminfo_proc_show(): string {
  const total = totalram_pages();
  const free = nr_free_pages();
  const page = (item: number): number => global_node_page_state(item);
  const anon = page(NR_ANON_PAGES);
  const file = page(NR_FILE_PAGES);
  const dm = direct_map_counts();
  let s = '';
  s += kb('MemTotal', total * PAGE_KB);
  s += kb('MemFree', free * PAGE_KB);
  s += kb('MemAvailable', free * PAGE_KB); // nothing reclaimable: available = free
  s += kb('Buffers', 0);
  s += kb('Cached', file * PAGE_KB);
  s += kb('SwapCached', 0);
  s += kb('Active', anon * PAGE_KB);
  s += kb('Inactive', file * PAGE_KB);
  s += kb('Active(anon)', anon * PAGE_KB);
  s += kb('Inactive(anon)', 0);
  s += kb('Active(file)', 0);
  s += kb('Inactive(file)', file * PAGE_KB);
  s += kb('Unevictable', 0);
  s += kb('Mlocked', 0);
  s += kb('SwapTotal', 0);
  s += kb('SwapFree', 0);
  s += kb('Zswap', 0);
  s += kb('Zswapped', 0);
  s += kb('Dirty', 0);
  s += kb('Writeback', 0);
  s += kb('AnonPages', anon * PAGE_KB);
  s += kb('Mapped', page(NR_FILE_MAPPED) * PAGE_KB);
  s += kb('Shmem', page(NR_SHMEM) * PAGE_KB);
  s += kb('KReclaimable', 0);
  s += kb('Slab', page(NR_SLAB_UNRECLAIMABLE) * PAGE_KB);
  s += kb('SReclaimable', 0);
  s += kb('SUnreclaim', page(NR_SLAB_UNRECLAIMABLE) * PAGE_KB);
  s += kb('KernelStack', page(NR_KERNEL_STACK_KB));
  s += kb('PageTables', page(NR_PAGETABLE) * PAGE_KB);
  s += kb('SecPageTables', 0);
  s += kb('NFS_Unstable', 0);
  s += kb('Bounce', 0);
  s += kb('WritebackTmp', 0);
  s += kb('CommitLimit', vm_commit_limit() * PAGE_KB);
  s += kb('Committed_AS', vm_memory_committed() * PAGE_KB);
  s += kb('VmallocTotal', Number((VMALLOC_END - VMALLOC_START) >> 10n));
  s += kb('VmallocUsed', 0);
  s += kb('VmallocChunk', 0);
  s += kb('Percpu', 0);
  s += `HardwareCorrupted: ${String(0).padStart(5)} kB\n`;
  s += kb('AnonHugePages', 0);
  s += kb('ShmemHugePages', 0);
  s += kb('ShmemPmdMapped', 0);
  s += kb('FileHugePages', 0);
  s += kb('FilePmdMapped', 0);
  s += `HugePages_Total:   ${String(0).padStart(5)}\n`;
  s += `HugePages_Free:    ${String(0).padStart(5)}\n`;
  s += `HugePages_Rsvd:    ${String(0).padStart(5)}\n`;
  s += `HugePages_Surp:    ${String(0).padStart(5)}\n`;
  s += kb('Hugepagesize', 2048);
  s += kb('Hugetlb', 0);
  s += kb('DirectMap4k', dm.k4 * 4);
  s += kb('DirectMap2M', dm.m2 * 2048);
  s += kb('DirectMap1G', dm.g1 * 1024 * 1024);
  return s;
}

/** fs_initcall(proc_meminfo_init). */
export function proc_meminfo_init(): void { proc_create('/proc/meminfo', meminfo_proc_show); }
