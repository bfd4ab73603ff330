/**
 * /proc/buddyinfo (Linux mm/vmstat.c frag_show_print): free blocks of each order,
 * one line per node's zone:
 *
 *   Node 0, zone   Normal      1      1      1      0      2      1      1      0      1      1     29
 *
 * ("Node %d, zone %8s " then "%6lu " per order 0..MAX_ORDER). This kernel has one
 * zone, Normal, per node.
 */
import { NR_PAGE_ORDERS, free_area_counts, nr_online_nodes } from '../../mm/page_alloc.js';
import { proc_create } from './generic.js';

export function buddyinfo_proc_show(): string {
  let s = '';
  for (let nid = 0; nid < nr_online_nodes(); nid++) {
    const counts = free_area_counts(nid);
    s += `Node ${nid}, zone ${'Normal'.padStart(8)} `;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) s += `${String(counts[o]).padStart(6)} `;
    s += '\n';
  }
  return s;
}

export function proc_buddyinfo_init(): void { proc_create('/proc/buddyinfo', buddyinfo_proc_show); }
