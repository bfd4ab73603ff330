/**
 * The kernel's direct mapping as address arithmetic (Linux asm/page_64.h, with the
 * MKTME series' per-KeyID direct mappings, [PATCHv2 18/59]):
 *
 *   KeyID k's alias of physical address pa is  PAGE_OFFSET + k * direct_mapping_size + pa
 *
 * direct_mapping_size is a power of two (at least 1 TiB) so that __pa() is a mask:
 * "__phys_addr_nodebug() returns x & direct_mapping_mask". PAGE_OFFSET is Linux's
 * 0xffff888000000000 in this machine's 48-bit form. The page tables that make these
 * addresses real are built by arch/x86/mm/init.ts, which sets the size.
 *
 * Also clear_page / copy_page: ordinary stores through a kernel virtual address.
 */
import { page_keyid } from './mktme.js';
import { memcpy_fromio, memcpy_toio, memset_io } from './processor.js';
import { PAGE_SIZE } from './pgtable_types.js';

/** Linux's __PAGE_OFFSET_BASE_L4 0xffff888000000000, as a 48-bit linear address. */
export const PAGE_OFFSET = 0x888000000000;
/** Smallest direct mapping: the MKTME series rounds up to 1 TiB. */
export const DIRECT_MAPPING_MIN = 2 ** 40;

let mapping_size = DIRECT_MAPPING_MIN;
let mapped_keyids = 1;

/** Set by init_mem_mapping: the per-KeyID stride and how many KeyIDs are mapped (incl. 0). */
export function set_direct_mapping(size: number, nr_mapped_keyids: number): void {
  mapping_size = size;
  mapped_keyids = nr_mapped_keyids;
}

/** Bytes of virtual space each KeyID's direct mapping occupies (a power of two). */
export function direct_mapping_size(): number { return mapping_size; }

/** KeyIDs 0..n-1 have a direct mapping. */
export function direct_mapping_keyids(): number { return mapped_keyids; }

/** The kernel virtual address of physical `pa` through KeyID `keyid`'s direct mapping. */
export function __va(pa: number, keyid = 0): number {
  return PAGE_OFFSET + keyid * mapping_size + pa;
}

/**
 * The physical address (KeyID bits excluded) behind a direct-mapping address of any
 * KeyID, or -1 if `va` is outside every direct mapping (Linux would BUG here).
 */
export function __pa(va: number): number {
  const off = va - PAGE_OFFSET;
  if (!(off >= 0) || off >= mapped_keyids * mapping_size) return -1;
  return off % mapping_size;
}

/** The KeyID of the direct mapping holding `va`, or -1. */
export function va_keyid(va: number): number {
  const off = va - PAGE_OFFSET;
  if (!(off >= 0) || off >= mapped_keyids * mapping_size) return -1;
  return Math.floor(off / mapping_size);
}

/**
 * page_address / page_to_virt: the page's address in the direct mapping of its
 * current KeyID ("page_to_virt(x) (__va(PFN_PHYS(page_to_pfn(x))) + page_keyid(x) *
 * direct_mapping_size)").
 */
export function page_address(pfn: number): number {
  return PAGE_OFFSET + page_keyid(pfn) * mapping_size + pfn * PAGE_SIZE;
}

/** clear_page: zero one 4 KiB page through kernel virtual address `va` (REP STOSB). */
export function clear_page(va: number): void { memset_io(va, 0, PAGE_SIZE); }

/** copy_page: copy one 4 KiB page between kernel virtual addresses. */
export function copy_page(to: number, from: number): void {
  const buf = new Uint8Array(PAGE_SIZE);
  memcpy_fromio(from, buf);
  memcpy_toio(to, buf);
}
