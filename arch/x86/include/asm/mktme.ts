/**
 * The MKTME hooks core code calls (the MKTME series' arch/x86/include/asm/mktme.h and
 * its generic fallbacks in include/linux/mm.h and gfp.h: page_keyid,
 * prep_encrypted_page, and arch_free_page, "#define HAVE_ARCH_FREE_PAGE"). Core mm
 * and asm/page.ts call only these; without MKTME each is the no-op of the header's
 * #else branch (KeyID 0, nothing to prepare or flush). arch/x86/mm/mktme.ts installs
 * the real ones when detect_tme enables MKTME and takes them away when it is disabled.
 */

/** What arch/x86/mm/mktme.ts provides while MKTME is on. */
export interface mktme_arch_ops {
  /** Usable KeyIDs (1..n). */
  nr_keyids(): number;
  page_keyid(pfn: number): number;
  prep_encrypted_page(pfn: number, order: number, keyid: number, zero: boolean): void;
  free_encrypted_page(pfn: number, order: number): void;
}

let ops: mktme_arch_ops | null = null;

/** Install (or, with null, remove) the MKTME implementation. */
export function mktme_set_arch_ops(o: mktme_arch_ops | null): void { ops = o; }

/** The KeyIDs a page can be given: 1..arch_nr_keyids() (0 without MKTME). */
export function arch_nr_keyids(): number { return ops ? ops.nr_keyids() : 0; }

/** page_keyid: the KeyID the page is currently used with (0 without MKTME). */
export function page_keyid(pfn: number): number { return ops ? ops.page_keyid(pfn) : 0; }

/**
 * arch_alloc_page with the series' KeyID: give 2^order fresh pages to `keyid`, zeroing
 * them through the new alias when `zero` (prep_encrypted_page; KeyID 0 does nothing).
 */
export function arch_alloc_page(pfn: number, order: number, keyid: number, zero: boolean): void {
  if (keyid && ops) ops.prep_encrypted_page(pfn, order, keyid, zero);
}

/** arch_free_page: a page with a KeyID is flushed and returned to KeyID 0 (free_encrypted_page). */
export function arch_free_page(pfn: number, order: number): void {
  if (ops && ops.page_keyid(pfn) !== 0) ops.free_encrypted_page(pfn, order);
}
