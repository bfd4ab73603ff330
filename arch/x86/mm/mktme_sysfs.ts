/**
 * /sys/kernel/mm/mktme: this tree's view of MKTME memory use (not a Linux ABI; the
 * series exposed KeyID state through the key service instead).
 *
 *   nr_keyids     usable KeyIDs, KeyID 0 excluded ("63\n"); 0 when MKTME is off
 *   keyid_pages   "KEYID PAGES" for every KeyID some page currently holds, ascending
 */
import { proc_create, proc_mkdir } from '../../../fs/proc/generic.js';
import { keyid_pages, mktme_nr_keyids } from './mktme.js';

export function mktme_nr_keyids_show(): string { return `${mktme_nr_keyids()}\n`; }

export function mktme_keyid_pages_show(): string {
  let s = '';
  for (let k = 1; k <= mktme_nr_keyids(); k++) {
    const n = keyid_pages(k);
    if (n > 0) s += `${k} ${n}\n`;
  }
  return s;
}

export function mktme_sysfs_init(): void {
  proc_mkdir('/sys/kernel/mm/mktme');
  proc_create('/sys/kernel/mm/mktme/nr_keyids', mktme_nr_keyids_show);
  proc_create('/sys/kernel/mm/mktme/keyid_pages', mktme_keyid_pages_show);
}
