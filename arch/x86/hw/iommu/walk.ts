/**
 * The remapping walk for a request without PASID in legacy mode (VT-d spec §3.4.3,
 * §3.7, ch. 9): RTADDR -> root entry (by bus) -> context entry (by devfn) ->
 * second-level tables (4 levels for a 48-bit AGAW) -> host physical address.
 *
 * Every pointer on the way - RTADDR, the root entry's context-table pointer, the
 * context entry's SLPTPTR, each non-leaf entry's next-table address, the leaf's page
 * address - is a host physical address whose upper bits may hold an MKTME KeyID.
 * The unit fetches each table through that full address, so a table page the kernel
 * wrote under KeyID k must be pointed to with KeyID k (the TDX module does the same
 * for its HKID). Bits at or above MAXPHYADDR (the unreduced HAW) are reserved; a set
 * KeyID bit never is.
 *
 * Entries are read as 64-bit halves {lo, hi} through the coherent path (ECAP.C = 1:
 * page walks snoop, so the kernel need not flush its stores to the tables).
 */
import {
  AGAW_48, CONTEXT_TT_MULTI_LEVEL, CONTEXT_TT_PASS_THROUGH, DMA_PTE_LARGE_PAGE, DMA_PTE_READ,
  DMA_PTE_WRITE, FR_BEYOND_MGAW, FR_CONTEXT_INVALID, FR_CONTEXT_NOT_PRESENT, FR_CONTEXT_PTR_INVALID,
  FR_CTP_RESERVED, FR_NEXT_PT_INVALID, FR_PTE_READ, FR_PTE_RESERVED, FR_PTE_WRITE, FR_ROOT_ADDR_INVALID,
  FR_ROOT_NOT_PRESENT, FR_RTP_RESERVED, MGAW, NUM_DOMAINS,
} from './regs.js';
import { LEVEL_SIZE } from '../mmu.js';

export interface Entry { lo: number; hi: number }

/** Physical reads the unit makes; null when nothing answers (a hole: #MC). */
export interface TableReader { read64(pa: number): Entry | null }

/** A decoded, present context entry (what the context cache holds). */
export interface ContextEntry {
  tt: number;
  did: number;
  aw: number;
  /** SLPTPTR, KeyID bits included. */
  slptptr: number;
  fpd: boolean;
}

export type WalkResult =
  | { ok: true; hpa: number; read: boolean; write: boolean; pageSize: number }
  | { ok: false; reason: number };

const PAGE = 4096;
const TWO32 = 2 ** 32;

/** Bits 51:12 of an entry as a number (KeyID bits included). */
function entryAddr(e: Entry): number {
  return (e.lo >>> 12) * PAGE + (e.hi & 0xfffff) * TWO32;
}

/** Bits 51:haw set (address beyond the host address width)? */
function addrBeyond(e: Entry, haw: number): boolean {
  return ((e.hi & 0xfffff) >>> (haw - 32)) !== 0;
}

/** Root entry for `bus` and its context entry for `devfn`. */
export function lookupContext(t: TableReader, rtaddr: number, sid: number, haw: number):
  { ok: true; ctx: ContextEntry } | { ok: false; reason: number; fpd: boolean } {
  const bus = sid >>> 8, devfn = sid & 0xff;
  const root = t.read64(rtaddr + bus * 16);
  const rootHi = t.read64(rtaddr + bus * 16 + 8);
  if (!root || !rootHi) return { ok: false, reason: FR_ROOT_ADDR_INVALID, fpd: false };
  if (!(root.lo & 1)) return { ok: false, reason: FR_ROOT_NOT_PRESENT, fpd: false };
  if ((root.lo & 0xffe) || addrBeyond(root, haw) || (root.hi >>> 20) || rootHi.lo || rootHi.hi) {
    return { ok: false, reason: FR_RTP_RESERVED, fpd: false };
  }
  const ctp = entryAddr(root);
  const lo = t.read64(ctp + devfn * 16);
  const hi = t.read64(ctp + devfn * 16 + 8);
  if (!lo || !hi) return { ok: false, reason: FR_CONTEXT_PTR_INVALID, fpd: false };
  if (!(lo.lo & 1)) return { ok: false, reason: FR_CONTEXT_NOT_PRESENT, fpd: false };
  const fpd = (lo.lo & 2) !== 0;
  if ((lo.lo & 0xff0) || addrBeyond(lo, haw) || (lo.hi >>> 20) || (hi.lo & 0x80) || (hi.lo >>> 24) || hi.hi) {
    return { ok: false, reason: FR_CTP_RESERVED, fpd };
  }
  const tt = (lo.lo >>> 2) & 3;
  const aw = hi.lo & 7;
  const did = (hi.lo >>> 8) & 0xffff;
  if (tt !== CONTEXT_TT_MULTI_LEVEL && tt !== CONTEXT_TT_PASS_THROUGH) return { ok: false, reason: FR_CONTEXT_INVALID, fpd };
  if ((tt === CONTEXT_TT_MULTI_LEVEL && aw !== AGAW_48) || did >= NUM_DOMAINS) return { ok: false, reason: FR_CONTEXT_INVALID, fpd };
  return { ok: true, ctx: { tt, did, aw, slptptr: entryAddr(lo), fpd } };
}

/**
 * The second-level walk for page `iova` (4 KiB aligned). Permissions are the AND of
 * every level's R and W; an entry with neither is not present and faults with the
 * access's reason (5 for a write, 6 for a read), as VT-d reports it.
 */
export function walkSecondLevel(t: TableReader, slptptr: number, iova: number, write: boolean,
  haw: number, largePages: { m2: boolean; g1: boolean }): WalkResult {
  if (iova >= 2 ** MGAW) return { ok: false, reason: FR_BEYOND_MGAW };
  let table = slptptr;
  let r = true, w = true;
  for (let level = 4; level >= 1; level--) {
    const size = LEVEL_SIZE[4 - level]; // the same sizes as the CPU's levels (mmu.ts)
    const idx = Math.floor(iova / size) & 511; // % 512 without a floating-point remainder (an integer below 2^36)
    const e = t.read64(table + idx * 8);
    if (!e) return { ok: false, reason: FR_NEXT_PT_INVALID };
    const er = (e.lo & DMA_PTE_READ) !== 0, ew = (e.lo & DMA_PTE_WRITE) !== 0;
    if (!er && !ew) return { ok: false, reason: write ? FR_PTE_WRITE : FR_PTE_READ };
    // Reserved: bits 6:3 (EMT/IPAT without ECAP.MTS), 51:HAW, 63:52 except 62 (TM).
    if ((e.lo & 0x78) || addrBeyond(e, haw) || ((e.hi >>> 20) & ~0x400)) return { ok: false, reason: FR_PTE_RESERVED };
    const ps = (e.lo & DMA_PTE_LARGE_PAGE) !== 0;
    if (ps && (level === 4 || level === 1 || (level === 3 && !largePages.g1) || (level === 2 && !largePages.m2))) {
      return { ok: false, reason: FR_PTE_RESERVED };
    }
    r &&= er; w &&= ew;
    const leaf = level === 1 || ps;
    const addr = entryAddr(e);
    if (leaf) {
      if (ps && Math.floor(addr / PAGE) % (size / PAGE) !== 0) {
        return { ok: false, reason: FR_PTE_RESERVED }; // address bits below the page size
      }
      if (write ? !w : !r) return { ok: false, reason: write ? FR_PTE_WRITE : FR_PTE_READ };
      return { ok: true, hpa: addr + (iova - Math.floor(iova / size) * size), read: r, write: w, pageSize: size };
    }
    table = addr;
  }
  return { ok: false, reason: FR_NEXT_PT_INVALID }; // not reached
}
