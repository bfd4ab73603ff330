/**
 * The memory map: per-page state as struct-of-arrays indexed by PFN (Linux's
 * `struct page` array, mem_map, plus the page_ext KeyID of the MKTME series), never an
 * object per page. Sixteen bytes a page:
 *
 *   page_flags   Uint8   PG_* bits 3:0, NUMA node bits 7:4 (Linux keeps the node in
 *                        the top bits of page->flags too: NODES_PGSHIFT)
 *   page_order   Uint8   buddy order of a free block's head (page_private), or the
 *                        order an allocated block was handed out with (its head)
 *   page_keyid   Uint16  page_ext->keyid ([PATCHv2 12/59]: "bits 31:16 of extended
 *                        page flags"); kept for freed pages, reset by free_encrypted_page
 *   page_refcount Int32  _refcount of an allocated block's head
 *   page_next    Int32   buddy free-list links (page->lru), -1 terminated
 *   page_prev    Int32
 *
 * Only a block's head page carries order, refcount and links; tail pages of a free or
 * allocated block keep refcount 0, so freeing a tail is caught as a bad page.
 * This file only owns the arrays; mm/page_alloc.ts owns what they mean.
 */

/** Page flag bits (low nibble of page_flags). */
export const PG_buddy = 0x1;    // head of a free block on a buddy free list
export const PG_reserved = 0x2; // never handed to the buddy allocator (firmware, kernel, holes)
export const PG_FLAGS_MASK = 0x0f;
/** page_flags bits 7:4 hold the node id (at most 16 nodes). */
export const NODES_PGSHIFT = 4;
export const MAX_NUMNODES = 16;

export let page_flags = new Uint8Array(0);
export let page_order = new Uint8Array(0);
export let page_keyid_arr = new Uint16Array(0);
export let page_refcount = new Int32Array(0);
export let page_next = new Int32Array(0);
export let page_prev = new Int32Array(0);

/** Bytes of metadata per page, computed from the arrays' element sizes (benchmark key). */
export function page_meta_bytes(): number {
  return page_flags.BYTES_PER_ELEMENT + page_order.BYTES_PER_ELEMENT + page_keyid_arr.BYTES_PER_ELEMENT +
    page_refcount.BYTES_PER_ELEMENT + page_next.BYTES_PER_ELEMENT + page_prev.BYTES_PER_ELEMENT;
}

/**
 * Allocate the arrays for PFNs 0..nr_pages-1 (Linux: free_area_init / alloc_node_mem_map).
 * Every page starts reserved, node 0, KeyID 0, refcount 0. Zero pages drop the arrays
 * (the state of a kernel that has not reached mem_init yet).
 */
export function mem_map_init(nr_pages: number): void {
  page_flags = new Uint8Array(nr_pages).fill(PG_reserved);
  page_order = new Uint8Array(nr_pages);
  page_keyid_arr = new Uint16Array(nr_pages);
  page_refcount = new Int32Array(nr_pages);
  page_next = new Int32Array(nr_pages);
  page_prev = new Int32Array(nr_pages);
}

/** Set the node and flags of [start, end) in one fill (boot: per memblock region). */
export function set_page_range(start: number, end: number, nid: number, flags: number): void {
  page_flags.fill((nid << NODES_PGSHIFT) | flags, start, end);
}

/** page_to_nid (include/linux/mm.h): the node kept in the flags' top bits. */
export function page_to_nid(pfn: number): number { return page_flags[pfn] >>> NODES_PGSHIFT; }
