/**
 * MKTME memory management (Kirill Shutemov's series, arch/x86/mm/mktme.c and
 * asm/mktme.h): the KeyID geometry found by detect_tme, the KeyID of every page
 * (page_ext), and the cache flushes a page needs when its KeyID changes.
 *
 * Why the flushes: the CPU does not keep the KeyID aliases of a page coherent (Intel MKTME spec (336907-003, rev 1.3), exclusion range, S3 standby and runtime rules,
 * "Hardware/CPU does not enforce coherency between mappings of the same physical page
 * with different KeyIDs"). A dirty line of the old alias written back late lands on top
 * of the new KeyID's data. So (the series' arch/x86/mm/mktme.c):
 *   prep_encrypted_page: flush the KeyID-0 alias, set the KeyID, then zero through the
 *                        new alias;
 *   free_encrypted_page: flush the KeyID's alias, then reset the KeyID to 0.
 * `mktme.noflush` (a teaching option of this tree) skips both flushes so the stale-alias
 * corruption can be watched happening.
 *
 * Every KeyID a page holds is one reference on that KeyID ("Taking a reference per-4K
 * helps in case if the page will be split"); the key service plugs its counters in
 * with mktme_set_keyid_ref_ops. mktme_mm_init() resets everything for a new boot.
 */
import { clflush_cache_range } from '../include/asm/processor.js';
import { clear_pages } from '../include/asm/page_64.js';
import { PAGE_SIZE, set_physical_mask_bits } from '../include/asm/pgtable_types.js';
import { __va, page_address } from '../include/asm/page.js';
import { mktme_set_arch_ops, type mktme_arch_ops } from '../include/asm/mktme.js';
import { page_keyid_arr } from '../../../mm/page.js';
import { pr_warn } from '../../../kernel/printk.js';
import { module_param, param_ops_bool } from '../../../kernel/params.js';

/** Linux __PHYSICAL_MASK_SHIFT: physical_mask is restored to this by mktme_disable. */
const __PHYSICAL_MASK_SHIFT = 52;

/** The key service's per-KeyID reference counts (percpu_ref encrypt_count[] in Linux). */
export interface KeyidRefOps {
  get(keyid: number, n: number): void;
  put(keyid: number, n: number): void;
}

let nr_keyids = 0;
let keyid_shift = 0;
let keyid_bits = 0;
let algs = 0;
/** mktme.noflush[=BOOL]: skip the prep/free flushes (to demonstrate the stale-alias hazard). */
const noflush = module_param('mktme', 'noflush', param_ops_bool, false);
let ref_ops: KeyidRefOps | null = null;
/** Pages currently holding each KeyID (index 1..nr); for sysfs keyid_pages. */
let keyid_count = new Float64Array(1);

/** Reset for a new boot: MKTME off, no reference hooks, no counts (mktme.noflush is a parameter). */
export function mktme_mm_init(): void {
  nr_keyids = keyid_shift = keyid_bits = algs = 0;
  ref_ops = null;
  keyid_count = new Float64Array(1);
  mktme_set_arch_ops(null);
}

/**
 * detect_tme found MKTME enabled with `nr` KeyIDs (2^bits - 1) whose bits start at
 * `shift` (= MAXPHYADDR - bits). Linux: __mktme_nr_keyids, __mktme_keyid_shift,
 * __mktme_keyid_mask = GENMASK_ULL(phys_bits - 1, shift), physical_mask &= ~mask,
 * mktme_algs = crypto_algs (detect_tme has masked them with TME_ACTIVATE_CRYPTO_KNOWN_ALGS).
 */
export function mktme_set_params(nr: number, shift: number, bits: number, crypto_algs: number): void {
  nr_keyids = nr;
  keyid_shift = shift;
  keyid_bits = bits;
  algs = crypto_algs;
  keyid_count = new Float64Array(nr + 1);
  set_physical_mask_bits(shift);
  mktme_set_arch_ops(nr > 0 ? mktme_arch : null);
}

/** Linux mktme_disable(): zero mask, shift and number; restore physical_mask. */
export function mktme_disable(): void {
  nr_keyids = keyid_shift = keyid_bits = algs = 0;
  keyid_count = new Float64Array(1);
  set_physical_mask_bits(__PHYSICAL_MASK_SHIFT);
  mktme_set_arch_ops(null);
}

/** The hardware KeyIDs (Linux asm/mktme.h mktme_nr_keyids), KeyID 0 excluded; 0 when MKTME is off. */
export function mktme_nr_keyids(): number { return nr_keyids; }
export function mktme_enabled(): boolean { return nr_keyids > 0; }
/** First physical-address bit of the KeyID. */
export function mktme_keyid_shift(): number { return keyid_shift; }
/** The KeyID field as {shift, bits}: bits shift..shift+bits-1 of a physical address
 *  (Linux keeps GENMASK_ULL(shift+bits-1, shift), which does not fit a JS number op). */
export function mktme_keyid_mask(): { shift: number; bits: number } { return { shift: keyid_shift, bits: keyid_bits }; }
/** Known algorithms the BIOS activated (TME_ACTIVATE_CRYPTO_* bits). */
export function mktme_algs(): number { return algs; }

/** Whether mktme.noflush is in effect; says so in the log when `warn`. */
export function mktme_noflush(warn = false): boolean {
  if (warn && noflush.value) pr_warn('x86/mktme: noflush: KeyID changes will not flush caches; stale aliases WILL corrupt memory');
  return noflush.value;
}

/** The key service registers its KeyID reference counting (null: no-op). */
export function mktme_set_keyid_ref_ops(ops: KeyidRefOps | null): void { ref_ops = ops; }

/** page_keyid's implementation: page_ext's KeyID. */
function mktme_page_keyid(pfn: number): number {
  return pfn < page_keyid_arr.length ? page_keyid_arr[pfn] : 0;
}

/** The hooks asm/mktme.ts calls while MKTME is on. */
const mktme_arch: mktme_arch_ops = {
  nr_keyids: () => nr_keyids,
  page_keyid: mktme_page_keyid,
  prep_encrypted_page: (pfn, order, keyid, zero) => prep_encrypted_page(pfn, order, keyid, zero),
  free_encrypted_page: (pfn, order) => free_encrypted_page(pfn, order),
};

/** Pages currently holding `keyid` (keyid >= 1), for /sys/kernel/mm/mktme/keyid_pages. */
export function keyid_pages(keyid: number): number {
  return keyid >= 1 && keyid < keyid_count.length ? keyid_count[keyid] : 0;
}

/** WARN_ON_ONCE's report (printed every time here: a test wants to see each one). */
function WARN(what: string): void {
  pr_warn(`WARNING: ${what}`);
}

/**
 * prep_encrypted_page: give the 2^order pages at `pfn` (all KeyID 0, fresh from the
 * allocator) to `keyid`. Zeroing, if asked, happens after the KeyID is set, through
 * the new alias ("Encrypted page has to be cleared once keyid is set"). KeyID 0 is a
 * no-op (the inline wrapper's `if (keyid)`).
 */
export function prep_encrypted_page(pfn: number, order: number, keyid: number, zero: boolean): void {
  if (!keyid) return;
  const n = 2 ** order;
  // 1. Write back and drop the KeyID-0 alias's lines: page_address() is still KeyID 0.
  if (!noflush.value) clflush_cache_range(page_address(pfn), n * PAGE_SIZE);
  // 2. "All pages coming out of the allocator should have KeyID 0". A page that still
  //    has one gives it up here, so the counts and references stay balanced.
  for (let i = 0; i < n; i++) {
    const old = page_keyid_arr[pfn + i];
    if (old === 0) continue;
    WARN(`prep_encrypted_page: pfn 0x${(pfn + i).toString(16)} already has KeyID ${old}`);
    if (old < keyid_count.length) keyid_count[old]--;
    ref_ops?.put(old, 1);
  }
  page_keyid_arr.fill(keyid, pfn, pfn + n);
  if (keyid < keyid_count.length) keyid_count[keyid] += n;
  ref_ops?.get(keyid, n);
  // 3. From now on page_address() is the new KeyID's alias.
  if (zero) clear_pages(__va(pfn * PAGE_SIZE, keyid), n * PAGE_SIZE);
}

/**
 * free_encrypted_page (arch_free_page for a page with a KeyID): flush the KeyID's
 * alias, reset the KeyID to 0, drop the references.
 */
export function free_encrypted_page(pfn: number, order: number): void {
  const keyid = page_keyid_arr[pfn];
  const n = 2 ** order;
  if (!noflush.value) clflush_cache_range(page_address(pfn), n * PAGE_SIZE);
  if (!keyid) WARN(`free_encrypted_page: pfn 0x${pfn.toString(16)} has no KeyID`);
  if (keyid > nr_keyids) WARN(`free_encrypted_page: pfn 0x${pfn.toString(16)} KeyID ${keyid} > ${nr_keyids}`);
  page_keyid_arr.fill(0, pfn, pfn + n);
  if (keyid < keyid_count.length) keyid_count[keyid] -= n;
  ref_ops?.put(keyid, n);
}
