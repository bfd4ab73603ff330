/**
 * /proc/buddyinfo (Linux mm/vmstat.c frag_show_print): free blocks of each order,
 * one line per node's zone:
 *
 *   Node 0, zone   Normal      1      1      1      0      2      1      1      0      1      1     29
 *
 * ("Node %d, zone %8s " then "%6lu " per order 0..MAX_ORDER), for each populated
 * zone of each node: x86-64's DMA (< 16 MiB), DMA32 (< 4 GiB) and Normal.
 */
import {
  MAX_NR_ZONES, NR_PAGE_ORDERS, nr_online_nodes, populated_zone, zone_free_area_counts, zone_names,
} from '../../mm/page_alloc.js';
import { proc_create } from './generic.js';

export function buddyinfo_proc_show(): string {
  let s = '';
  for (let nid = 0; nid < nr_online_nodes(); nid++) {
    for (let zone = 0; zone < MAX_NR_ZONES; zone++) {
      if (!populated_zone(nid, zone)) continue;
      const counts = zone_free_area_counts(nid, zone);
      s += `Node ${nid}, zone ${zone_names[zone].padStart(8)} `;
      for (let o = 0; o < NR_PAGE_ORDERS; o++) s += `${String(counts[o]).padStart(6)} `;
      s += '\n';
    }
  }
  return s;
}

export function proc_buddyinfo_init(): void { proc_create('/proc/buddyinfo', buddyinfo_proc_show); }
