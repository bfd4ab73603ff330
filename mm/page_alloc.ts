/**
 * The buddy page allocator (Linux mm/page_alloc.c) with x86-64's zones on every NUMA
 * node (DMA below 16 MiB, DMA32 below 4 GiB, Normal above), orders 0..MAX_ORDER (10,
 * i.e. up to 4 MiB blocks, so no block straddles a zone boundary), with the MKTME
 * series' KeyID hooks:
 *
 *   alloc_pages(gfp, order, keyid, nid) -> pfn | -ENOMEM | -EINVAL
 *     keyid != 0: prep_encrypted_page after the block leaves the free lists, zeroing
 *     deferred until the KeyID is set ([PATCHv2 05/59] deferred_page_zero).
 *   __free_pages(pfn, order): drop a reference; at zero, arch_free_page
 *     (free_encrypted_page when the page has a KeyID), then merge with free buddies.
 *
 * An allocation takes from the highest zone its gfp allows (gfp_zone: __GFP_DMA,
 * __GFP_DMA32, else Normal) and falls back to lower zones, then to the other nodes in
 * the same way (the node-ordered zonelist); there are no lowmem reserves or watermarks.
 *
 * Free lists are doubly linked through page_next/page_prev (mm/page.ts), heads in a
 * small typed array per (node, zone, order). A free block's head carries PG_buddy and its
 * order; an allocated block's head carries refcount >= 1 and its allocation order, so
 * a double free, a wrong order, a tail page or a reserved page is refused with an
 * error message and changes nothing. mem_init() (re)builds everything for a boot.
 */
import {
  MAX_NUMNODES, NODES_PGSHIFT, PG_buddy, PG_reserved, mem_map_init, page_flags, page_refcount,
  page_next, page_order, page_prev, set_page_range,
} from './page.js';
import {
  KERNEL_BSS, KERNEL_DATA, KERNEL_EDATA, KERNEL_END, KERNEL_ETEXT, KERNEL_RODATA, KERNEL_RODATA_END,
  KERNEL_TEXT, for_each_free_mem_range, memblock_end_of_DRAM, memblock_freeze, memblock_memory,
} from './memblock.js';
import { arch_alloc_page, arch_free_page, arch_nr_keyids } from '../arch/x86/include/asm/mktme.js';
import { page_address } from '../arch/x86/include/asm/page.js';
import { clear_pages } from '../arch/x86/include/asm/page_64.js';
import { PAGE_SIZE } from '../arch/x86/include/asm/pgtable_types.js';
import { pr_err, pr_info, pr_warn } from '../kernel/printk.js';
import { EINVAL, ENOMEM } from '../kernel/errno.js';
import { vmstat_init } from './vmstat.js';
import { numa_node_id } from '../arch/x86/mm/numa.js';

export const MAX_ORDER = 10;
export const NR_PAGE_ORDERS = MAX_ORDER + 1;

// Zones and gfp flags are defined in include/linux/{mmzone,gfp}.ts; re-exported here,
// where every caller of alloc_pages already imports from.
export * from '../include/linux/mmzone.js';
export * from '../include/linux/gfp.js';
import { MAX_DMA32_PFN, MAX_DMA_PFN, MAX_NR_ZONES, page_zonenum } from '../include/linux/mmzone.js';
import { __GFP_NOWARN, __GFP_THISNODE, __GFP_ZERO, gfp_zone } from '../include/linux/gfp.js';

/** One past the highest RAM PFN (Linux max_pfn); 0 before mem_init. */
export let max_pfn = 0;

let nr_nodes = 1;
/** free_area[(nid * MAX_NR_ZONES + zone) * NR_PAGE_ORDERS + order]: first free block (pfn) or -1. */
let free_head = new Int32Array(NR_PAGE_ORDERS).fill(-1);
/** Blocks on each free list (buddyinfo). */
let free_nr = new Float64Array(NR_PAGE_ORDERS);
/** Free pages per node. */
let node_free = new Float64Array(1);
/** Pages handed to the buddy allocator at boot, per node (totalram_pages). */
let node_managed = new Float64Array(1);
/** Pages of RAM present in each (node, zone): a zone is populated if it has any. */
let zone_present = new Float64Array(MAX_NR_ZONES);
let total_present = 0;

// --- free lists ----------------------------------------------------------------------

function free_slot(nid: number, zone: number, order: number): number {
  return (nid * MAX_NR_ZONES + zone) * NR_PAGE_ORDERS + order;
}

function add_to_free_list(pfn: number, nid: number, order: number): void {
  const slot = free_slot(nid, page_zonenum(pfn), order);
  const head = free_head[slot];
  page_next[pfn] = head;
  page_prev[pfn] = -1;
  if (head >= 0) page_prev[head] = pfn;
  free_head[slot] = pfn;
  free_nr[slot]++;
  page_flags[pfn] |= PG_buddy;
  page_order[pfn] = order;
}

function del_from_free_list(pfn: number, nid: number, order: number): void {
  const slot = free_slot(nid, page_zonenum(pfn), order);
  const next = page_next[pfn];
  const prev = page_prev[pfn];
  if (prev >= 0) page_next[prev] = next;
  else free_head[slot] = next;
  if (next >= 0) page_prev[next] = prev;
  free_nr[slot]--;
  page_flags[pfn] &= ~PG_buddy;
}

/** __free_one_page: put a block back, merging with its free buddy while it has one. */
function __free_one_page(pfn: number, order: number, nid: number): void {
  node_free[nid] += 2 ** order;
  while (order < MAX_ORDER) {
    const size = 2 ** order;
    // buddy = pfn ^ size, with arithmetic: pfn is not combined with bitwise operators.
    const buddy = pfn % (2 * size) === 0 ? pfn + size : pfn - size;
    if (buddy >= max_pfn) break;
    const f = page_flags[buddy];
    if (!(f & PG_buddy) || page_order[buddy] !== order || (f >>> NODES_PGSHIFT) !== nid ||
      page_zonenum(buddy) !== page_zonenum(pfn)) break;
    del_from_free_list(buddy, nid, order);
    if (buddy < pfn) pfn = buddy;
    order++;
  }
  add_to_free_list(pfn, nid, order);
}

// --- DEFERRED_STRUCT_PAGE_INIT ------------------------------------------------------------
//
// Linux boots large machines fast by leaving most struct pages for later
// (CONFIG_DEFERRED_STRUCT_PAGE_INIT: deferred_init_memmap, or deferred_grow_zone when an
// allocation needs them first) and by freeing memory to the buddy allocator in max-order
// blocks (deferred_free_range). Here mem_init marks each whole max-order block free (its
// head's PG_buddy and order; counts, buddyinfo, meminfo and memmap see it) but threads
// none onto its free list: that is the per-page work (two links per block, spread over
// the whole memory map) a 1 TiB machine cannot afford at boot. The blocks wait in
// per-(node, zone) runs, and rmqueue threads the highest one when the zone's max-order
// list is empty: exactly the block the eagerly built list would hand out next, since that list is
// LIFO and was filled in address order. Lower-order blocks (range edges) go on their
// lists at boot as before.

/** Per (node, zone): runs of unthreaded max-order blocks, [start, end) PFN pairs in address order. */
let deferred: number[][] = [[]];
const MAX_BLOCK = 2 ** MAX_ORDER;

/** Count the max-order block at `pfn` free without threading it (boot). */
function defer_free_block(pfn: number, nid: number): void {
  const zone = page_zonenum(pfn);
  const runs = deferred[nid * MAX_NR_ZONES + zone];
  if (runs.length && runs[runs.length - 1] === pfn) runs[runs.length - 1] = pfn + MAX_BLOCK;
  else runs.push(pfn, pfn + MAX_BLOCK);
  free_nr[free_slot(nid, zone, MAX_ORDER)]++;
  node_free[nid] += MAX_BLOCK;
  page_flags[pfn] |= PG_buddy;
  page_order[pfn] = MAX_ORDER;
}

/** deferred_grow_zone: thread the zone's highest waiting block onto its list; false if none. */
function deferred_grow_zone(nid: number, zone: number): boolean {
  const runs = deferred[nid * MAX_NR_ZONES + zone];
  if (runs.length === 0) return false;
  const pfn = runs[runs.length - 1] - MAX_BLOCK;
  if (pfn === runs[runs.length - 2]) runs.length -= 2;
  else runs[runs.length - 1] = pfn;
  free_nr[free_slot(nid, zone, MAX_ORDER)]--; // counted at boot; add_to_free_list counts it again
  add_to_free_list(pfn, nid, MAX_ORDER);
  return true;
}

/** The waiting blocks of a zone, in the order rmqueue would take them. */
function deferred_blocks(nid: number, zone: number): number[] {
  const out: number[] = [];
  const runs = deferred[nid * MAX_NR_ZONES + zone] ?? [];
  for (let i = runs.length - 2; i >= 0; i -= 2) {
    for (let p = runs[i + 1] - MAX_BLOCK; p >= runs[i]; p -= MAX_BLOCK) out.push(p);
  }
  return out;
}

/** __rmqueue_smallest + expand: take a 2^order block from a zone of node `nid`, or -1. */
function rmqueue(nid: number, zone: number, order: number): number {
  for (let o = order; o <= MAX_ORDER; o++) {
    const slot = free_slot(nid, zone, o);
    if (free_head[slot] < 0 && o === MAX_ORDER) deferred_grow_zone(nid, zone);
    const pfn = free_head[slot];
    if (pfn < 0) continue;
    del_from_free_list(pfn, nid, o);
    // expand(): hand the upper halves back, largest first.
    for (let high = o; high > order; ) {
      high--;
      add_to_free_list(pfn + 2 ** high, nid, high);
    }
    node_free[nid] -= 2 ** order;
    return pfn;
  }
  return -1;
}

// --- the allocator's interface ----------------------------------------------------------

/**
 * alloc_pages: a block of 2^order pages (a pfn), -ENOMEM when no node can supply one,
 * -EINVAL for a bad request (Linux returns NULL for both; a pfn cannot be NULL).
 * `nid` -1 prefers the current CPU's node; other nodes are the fallback unless
 * __GFP_THISNODE. A non-zero `keyid` must be 1..arch_nr_keyids().
 */
export function alloc_pages(gfp: number, order: number, keyid = 0, nid = -1): number {
  // Small integers only (x | 0 === x), so bitwise is fine: none is an address.
  if (order !== (order | 0) || order < 0 || order > MAX_ORDER ||
    keyid !== (keyid | 0) || keyid < 0 || keyid > arch_nr_keyids() ||
    nid !== (nid | 0) || nid < -1 || nid >= nr_nodes) {
    pr_err(`alloc_pages: bad request order:${order} keyid:${keyid} nid:${nid}`);
    return -EINVAL;
  }
  const preferred = nid < 0 ? numa_node_id() : nid;
  // get_page_from_freelist over the zonelist: this node's zones from gfp_zone() down,
  // then each other node's.
  const high = gfp_zone(gfp);
  const from_node = (n: number): number => {
    for (let z = high; z >= 0; z--) {
      const p = rmqueue(n, z, order);
      if (p >= 0) return p;
    }
    return -1;
  };
  let pfn = from_node(preferred);
  if (pfn < 0 && !(gfp & __GFP_THISNODE)) {
    for (let n = 0; n < nr_nodes && pfn < 0; n++) if (n !== preferred) pfn = from_node(n);
  }
  if (pfn < 0) {
    if (!(gfp & __GFP_NOWARN)) {
      pr_warn(`alloc_pages: page allocation failure: order:${order}, mode:0x${gfp.toString(16)}, nid:${nid}`);
    }
    return -ENOMEM;
  }
  page_refcount[pfn] = 1;
  page_order[pfn] = order;
  if (keyid !== 0) {
    // deferred_page_zero: clear after the KeyID is set, through the new alias.
    arch_alloc_page(pfn, order, keyid, (gfp & __GFP_ZERO) !== 0);
  } else if (gfp & __GFP_ZERO) {
    clear_pages(page_address(pfn), 2 ** order * PAGE_SIZE);
  }
  return pfn;
}

/** Why `pfn` cannot be freed at `order`, or null if it can. */
function bad_page(pfn: number, order: number): string | null {
  if (!(Number.isInteger(pfn) && pfn >= 0 && pfn < max_pfn)) return 'pfn out of range';
  if (!(Number.isInteger(order) && order >= 0 && order <= MAX_ORDER)) return 'bad order';
  const f = page_flags[pfn];
  if (f & PG_reserved) return 'page is reserved';
  if (f & PG_buddy) return 'page is already free (double free)';
  if (page_refcount[pfn] <= 0) return 'page has no references (not allocated, or a tail page)';
  if (page_order[pfn] !== order) return `allocated with order ${page_order[pfn]}`;
  return null;
}

function report_bad(fn: string, pfn: number, order: number, why: string): void {
  const where = Number.isSafeInteger(pfn) && pfn >= 0 ? `pfn:0x${pfn.toString(16)}` : `pfn:${pfn}`;
  pr_err(`BUG: Bad page state: ${fn}(${where}, order ${order}): ${why}`);
}

/** Last reference gone: arch_free_page, then back to the buddy lists. */
function free_the_page(pfn: number, order: number): void {
  arch_free_page(pfn, order);
  __free_one_page(pfn, order, page_flags[pfn] >>> NODES_PGSHIFT);
}

/** __free_pages: drop a reference to a block allocated with `order`; free it at zero. */
export function __free_pages(pfn: number, order: number): void {
  const why = bad_page(pfn, order);
  if (why !== null) { report_bad('__free_pages', pfn, order, why); return; }
  if (--page_refcount[pfn] === 0) free_the_page(pfn, order);
}

/** get_page: one more reference to an allocated block's head. */
export function get_page(pfn: number): void {
  if (!(pfn >= 0 && pfn < max_pfn) || page_refcount[pfn] <= 0 || page_flags[pfn] & (PG_buddy | PG_reserved)) {
    report_bad('get_page', pfn, 0, 'not an allocated page');
    return;
  }
  page_refcount[pfn]++;
}

/** put_page: drop a reference; the block is freed with its allocation order at zero. */
export function put_page(pfn: number): void {
  if (!(pfn >= 0 && pfn < max_pfn)) { report_bad('put_page', pfn, 0, 'pfn out of range'); return; }
  __free_pages(pfn, page_order[pfn]);
}

/** page_count: references held on the block whose head is `pfn` (0 if free). */
export function page_count(pfn: number): number {
  return pfn >= 0 && pfn < max_pfn ? page_refcount[pfn] : 0;
}

/** Is `pfn` free (inside a block on a free list)? O(MAX_ORDER). */
export function page_is_free(pfn: number): boolean {
  for (let o = 0; o <= MAX_ORDER; o++) {
    const head = pfn - (pfn % 2 ** o);
    if (page_flags[head] & PG_buddy && page_order[head] >= o && head + 2 ** page_order[head] > pfn) return true;
  }
  return false;
}

export function nr_free_pages(): number { let n = 0; for (const f of node_free) n += f; return n; }
export function node_free_pages(nid: number): number { return node_free[nid] ?? 0; }
export function node_managed_pages(nid: number): number { return node_managed[nid] ?? 0; }
/** totalram_pages(): pages the buddy allocator manages. */
export function totalram_pages(): number { let n = 0; for (const f of node_managed) n += f; return n; }
export function nr_online_nodes(): number { return nr_nodes; }
/** Free blocks of each order in one zone of node `nid` (for /proc/buddyinfo). */
export function zone_free_area_counts(nid: number, zone: number): number[] {
  const at = free_slot(nid, zone, 0);
  return Array.from(free_nr.subarray(at, at + NR_PAGE_ORDERS));
}

/** populated_zone(): does (nid, zone) hold any RAM? */
export function populated_zone(nid: number, zone: number): boolean {
  return (zone_present[nid * MAX_NR_ZONES + zone] ?? 0) > 0;
}

/** Free blocks of each order on node `nid`, all zones together. */
export function free_area_counts(nid: number): number[] {
  const out = new Array<number>(NR_PAGE_ORDERS).fill(0);
  for (let z = 0; z < MAX_NR_ZONES; z++) zone_free_area_counts(nid, z).forEach((n, o) => { out[o] += n; });
  return out;
}

/** The blocks on a node's free lists of one order, zone by zone, head first (for checks). */
export function free_list(nid: number, order: number): number[] {
  const out: number[] = [];
  if (nid < 0 || nid >= nr_nodes || order < 0 || order > MAX_ORDER) return out;
  for (let z = 0; z < MAX_NR_ZONES; z++) {
    for (let p = free_head[free_slot(nid, z, order)]; p >= 0 && out.length <= max_pfn; p = page_next[p]) out.push(p);
    if (order === MAX_ORDER) out.push(...deferred_blocks(nid, z)); // the list's tail, not yet threaded
  }
  return out;
}

/**
 * mem_init: size the memory map to max_pfn, mark RAM with its node, and free
 * memblock's free ranges to the buddy allocator in maximal aligned blocks
 * (memblock_free_all / __free_pages_memory), max-order ones deferred (see
 * DEFERRED_STRUCT_PAGE_INIT above). Only typed-array fills touch every page.
 */
export function mem_init(): void {
  const regions = memblock_memory();
  max_pfn = Math.ceil(memblock_end_of_DRAM() / PAGE_SIZE);
  nr_nodes = Math.min(MAX_NUMNODES, regions.reduce((n, r) => Math.max(n, r.nid + 1), 1));
  mem_map_init(max_pfn);
  free_head = new Int32Array(nr_nodes * MAX_NR_ZONES * NR_PAGE_ORDERS).fill(-1);
  deferred = Array.from({ length: nr_nodes * MAX_NR_ZONES }, () => []);
  free_nr = new Float64Array(nr_nodes * MAX_NR_ZONES * NR_PAGE_ORDERS);
  zone_present = new Float64Array(nr_nodes * MAX_NR_ZONES);
  node_free = new Float64Array(nr_nodes);
  node_managed = new Float64Array(nr_nodes);
  total_present = 0;
  for (const r of regions) {
    const s = Math.ceil(r.base / PAGE_SIZE);
    const e = Math.floor((r.base + r.size) / PAGE_SIZE);
    set_page_range(s, e, r.nid, PG_reserved);
    total_present += e - s;
    const bounds = [0, MAX_DMA_PFN, MAX_DMA32_PFN, Infinity];
    for (let z = 0; z < MAX_NR_ZONES; z++) {
      zone_present[r.nid * MAX_NR_ZONES + z] += Math.max(0, Math.min(e, bounds[z + 1]) - Math.max(s, bounds[z]));
    }
  }
  for_each_free_mem_range((start, end, nid) => {
    let pfn = start / PAGE_SIZE;
    const last = end / PAGE_SIZE;
    set_page_range(pfn, last, nid, 0);
    node_managed[nid] += last - pfn;
    while (pfn < last) {
      let order = MAX_ORDER;
      while (order > 0 && (pfn % 2 ** order !== 0 || pfn + 2 ** order > last)) order--;
      if (order === MAX_ORDER) defer_free_block(pfn, nid);
      else __free_one_page(pfn, order, nid);
      pfn += 2 ** order;
    }
  });
  memblock_freeze();
  vmstat_init();
  mem_init_print_info();
}

function mem_init_print_info(): void {
  const k = (bytes: number): number => Math.floor(bytes / 1024);
  const physpages = total_present;
  const codesize = KERNEL_ETEXT - KERNEL_TEXT;
  const datasize = KERNEL_EDATA - KERNEL_DATA;
  const rosize = KERNEL_RODATA_END - KERNEL_RODATA;
  const bss = KERNEL_END - KERNEL_BSS;
  pr_info(`Memory: ${k(nr_free_pages() * PAGE_SIZE)}K/${k(physpages * PAGE_SIZE)}K available ` +
    `(${k(codesize)}K kernel code, ${k(datasize)}K rwdata, ${k(rosize)}K rodata, 0K init, ${k(bss)}K bss, ` +
    `${k((physpages - totalram_pages()) * PAGE_SIZE)}K reserved, 0K cma-reserved)`);
}
