/**
 * Page-table entry format (SDM Vol. 3A §4.5, Linux asm/pgtable_types.h).
 *
 * A 64-bit entry is carried as two 32-bit halves, because JavaScript's bitwise
 * operators stop at 32 bits and the address field reaches bit 51:
 *
 *   hi: 63 XD | 62:52 ignored | 51:32 address bits 51:32 (KeyID bits are the top of these)
 *   lo: 31:12 address bits 31:12 | 8 G | 7 PS | 6 D | 5 A | 4 PCD | 3 PWT | 2 U/S | 1 R/W | 0 P
 *
 * pgprot_t has the same shape. As in the MKTME series, a VMA's KeyID lives in its
 * vm_page_prot (in the address bits above the physical mask), so mk_pte() carries it
 * into every PTE with no special case, and pte_modify() keeps it (_PAGE_CHG_MASK).
 */
export const _PAGE_PRESENT = 0x001;
export const _PAGE_RW = 0x002;
export const _PAGE_USER = 0x004;
export const _PAGE_PWT = 0x008;
export const _PAGE_PCD = 0x010;
export const _PAGE_ACCESSED = 0x020;
export const _PAGE_DIRTY = 0x040;
export const _PAGE_PSE = 0x080;
export const _PAGE_GLOBAL = 0x100;
/** XD, bit 63: bit 31 of the high half. */
export const _PAGE_NX_HI = 0x80000000;

export interface pte_t { lo: number; hi: number }
export type pgprot_t = pte_t;

const TWO32 = 4294967296;
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;
/** 4-level paging (asm/pgtable_64_types.h): the VA bit each level's index starts at. */
export const PGDIR_SHIFT = 39;
export const PUD_SHIFT = 30;
export const PMD_SHIFT = 21;
/** Index shift by level, PML4 (0) to PT (3). */
export const LEVEL_SHIFT: readonly number[] = [PGDIR_SHIFT, PUD_SHIFT, PMD_SHIFT, PAGE_SHIFT];

/** Bits of a physical address that address memory (Linux: physical_mask); the bits
 *  above it, up to MAXPHYADDR, are the KeyID. Set by the MKTME code at boot. */
let physical_bits = 46;
export function set_physical_mask_bits(bits: number): void { physical_bits = bits; }

export function __pgprot(lo: number, hi = 0): pgprot_t { return { lo: lo >>> 0, hi: hi >>> 0 }; }

/** The entry pointing at physical address `pa` (page aligned, may include KeyID bits). */
export function pa_pte(pa: number, prot: pgprot_t): pte_t {
  const hi = Math.floor(pa / TWO32);
  const lo = pa - hi * TWO32;
  return { lo: (lo | prot.lo) >>> 0, hi: (hi | prot.hi) >>> 0 };
}

/** mk_pte / pfn_pte: the KeyID comes from prot's address bits. */
export function pfn_pte(pfn: number, prot: pgprot_t): pte_t { return pa_pte(pfn * PAGE_SIZE, prot); }

/** The full address field (bits 51:12), KeyID included. */
export function pte_addr(pte: pte_t): number {
  return (pte.hi & 0xfffff) * TWO32 + (((pte.lo >>> 12) << 12) >>> 0);
}

/** pte_pfn: the frame, KeyID bits masked off by the physical mask. */
export function pte_pfn(pte: pte_t): number {
  return Math.floor((pte_addr(pte) % 2 ** physical_bits) / PAGE_SIZE);
}

/** The KeyID in an entry or a pgprot (address bits above the physical mask). */
export function pte_keyid(pte: pte_t): number {
  return Math.floor(pte_addr(pte) / 2 ** physical_bits);
}

/** A pgprot carrying `keyid` (Linux: prot |= keyid << mktme_keyid_shift()). */
export function pgprot_keyid(prot: pgprot_t, keyid: number): pgprot_t {
  const flags = { lo: prot.lo & 0xfff, hi: prot.hi & ~0xfffff };
  const addr = pte_addr(prot) % 2 ** physical_bits + keyid * 2 ** physical_bits;
  return pa_pte(addr, flags);
}

export function pte_present(pte: pte_t): boolean { return (pte.lo & _PAGE_PRESENT) !== 0; }
export function pte_write(pte: pte_t): boolean { return (pte.lo & _PAGE_RW) !== 0; }
export function pte_dirty(pte: pte_t): boolean { return (pte.lo & _PAGE_DIRTY) !== 0; }
export function pte_young(pte: pte_t): boolean { return (pte.lo & _PAGE_ACCESSED) !== 0; }

/**
 * _PAGE_CHG_MASK: what pte_modify() keeps from the old entry: the address field
 * (frame and KeyID, "the paddr and the keyID never occupy the same bits at the same
 * time") plus A and D. Everything else comes from the new protection.
 */
const CHG_LO = (0xfffff000 | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_PCD | _PAGE_PWT) >>> 0;
const CHG_HI = 0xfffff;
export function pte_modify(pte: pte_t, newprot: pgprot_t): pte_t {
  return {
    lo: ((pte.lo & CHG_LO) | (newprot.lo & ~CHG_LO)) >>> 0,
    hi: ((pte.hi & CHG_HI) | (newprot.hi & ~CHG_HI)) >>> 0,
  };
}

// Common protections (Linux's PAGE_* names). User pages are NX unless executable.
export const PAGE_NONE = __pgprot(0);
export const PAGE_KERNEL = __pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL, _PAGE_NX_HI);
/** Page-table pages: present, writable, user-accessible (leaves decide). */
export const _PAGE_TABLE = __pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY);
export const _KERNPG_TABLE = __pgprot(_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY);
