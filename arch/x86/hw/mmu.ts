/**
 * The 4-level IA-32e page walk (SDM Vol. 3A §4.5). Each paging-structure entry holds a
 * physical address whose upper bits carry a KeyID, so every level's table is read
 * through the cache under the KeyID of the entry that points to it, and CR3's own
 * KeyID selects the key for the PML4 (spec "Changes to Physical Address
 * Specification"). Reserved-bit checks use MAXPHYADDR only, as the spec requires.
 *
 * Entry bits used: P 0, R/W 1, U/S 2, A 5, D 6, PS 7, G 8, address M-1:12, XD 63.
 * The walk sets A on every level it uses and D on the leaf for a write.
 *
 * With a PDE cache (psc.ts), a walk whose region the cache holds starts at the PTE, with
 * the rights the upper levels combined to, and a walk that reads a PDE referencing a
 * page table fills it.
 *
 * Second stage: `stage2` maps each guest-physical address (every paging-structure
 * entry read, and the final address) to a host-physical one. It is the identity on bare
 * metal; on a vCPU it is the EPT walk (vmx/guest_mmu.ts), the two-dimensional walk.
 */
import { Fault, X86_PF_INSTR, X86_PF_PROT, X86_PF_RSVD, X86_PF_USER, X86_PF_WRITE, X86_TRAP_PF } from './isa.js';
import { TLB_DIRTY, TLB_GLOBAL, TLB_NX, TLB_USER, TLB_WRITE } from './tlb.js';
import type { PdeCache } from './psc.js';

export const PTE_P = 1;
export const PTE_RW = 2;
export const PTE_US = 4;
export const PTE_A = 0x20;
export const PTE_D = 0x40;
export const PTE_PS = 0x80;
export const PTE_G = 0x100;
/** XD (NX) is bit 63 = bit 31 of the high half. */
export const PTE_HI_NX = 0x80000000;

export type Access = 'r' | 'w' | 'x';

/** What the walker needs from its CPU: physical 32-bit loads/stores through the cache. */
export interface WalkPort {
  phys32(pa: number): number;
  /** As PhysPort.phys64 (vmx/vmcs.ts): an entry's two 32-bit loads, one lookup. */
  phys64(pa: number, out: Uint32Array): void;
  physStore32(pa: number, value: number): void;
  /** `final`: the translated address itself, not a paging-structure entry. */
  stage2(gpa: number, access: Access, final: boolean): number;
}

export interface Translation {
  /** Physical address of the 4 KiB piece holding va, KeyID included. */
  physPage: number;
  flags: number;
  pageSize: number;
  /** Paging-structure entries the walk loaded: 4 (fewer for a large page), 1 from the PDE cache. */
  levels: number;
}

const TWO32 = 4294967296;
/** The entry a walk step loaded (WalkPort.phys64); the walk is not reentrant. */
const entry = new Uint32Array(2);
/** Bytes one entry maps at each level (4-level paging and EPT alike): 2^39, 2^30, 2^21, 2^12. */
export const LEVEL_SIZE = [2 ** 39, 2 ** 30, 2 ** 21, 2 ** 12];

/**
 * Bits 51:M of a paging-structure entry's high half, M = MAXPHYADDR (36..52 on x86-64):
 * reserved in every entry (SDM Vol. 3A §4.5, Table 4-14 and on). Integer ops only.
 */
export function reservedHighBits(maxPhysAddr: number): number {
  const m = Math.min(52, Math.max(32, maxPhysAddr));
  return m === 52 ? 0 : (0xfffff & ~((1 << (m - 32)) - 1)) >>> 0;
}

/** The #PF a walk raises, with the SDM's error code. */
function walkFault(va: number, access: Access, user: boolean, present: boolean, rsvd: boolean): Fault {
  return new Fault(X86_TRAP_PF, (present ? X86_PF_PROT : 0) | (access === 'w' ? X86_PF_WRITE : 0) |
    (user ? X86_PF_USER : 0) | (rsvd ? X86_PF_RSVD : 0) | (access === 'x' ? X86_PF_INSTR : 0), va);
}

/**
 * Walk the tables for linear address `va`. Raises #PF (with the SDM error code) for a
 * not-present entry, a reserved bit, or a permission violation.
 */
export function walk(port: WalkPort, cr3: number, va: number, access: Access, user: boolean,
  wp: boolean, maxPhysAddr: number, pde: PdeCache | null = null): Translation {
  const reservedHi = reservedHighBits(maxPhysAddr);
  // CR3's bits M-1:12: the PML4's (guest-)physical address, in halves (a floating-point
  // remainder is a library call).
  let table = (Math.floor(cr3 / TWO32) & ~reservedHi & 0xfffff) * TWO32 + (((cr3 >>> 0) & ~0xfff) >>> 0);
  const root = table;
  let allowUser = true;
  let allowWrite = true;
  let nx = false;
  let global = false;
  let level = 0;
  const hit = pde === null ? -1 : pde.lookup(root, va);
  if (hit >= 0) {
    const r = pde!.rightsOf(hit);
    table = pde!.tableOf(hit);
    allowUser = (r & TLB_USER) !== 0; allowWrite = (r & TLB_WRITE) !== 0; nx = (r & TLB_NX) !== 0;
    level = 3;
  }
  const first = level;
  for (; level < 4; level++) {
    const pageSize = LEVEL_SIZE[level];
    const index = (Math.floor(va / pageSize) >>> 0) & 511; // % 512 without a floating-point remainder
    const entryPa = port.stage2(table + index * 8, 'r', false);
    port.phys64(entryPa, entry);
    const lo = entry[0], hi = entry[1];
    if (!(lo & PTE_P)) throw walkFault(va, access, user, false, false);
    if (hi & reservedHi) throw walkFault(va, access, user, true, true);
    const leafHere = level === 3 || (lo & PTE_PS) !== 0;
    if (level === 0 && lo & PTE_PS) throw walkFault(va, access, user, true, true);
    // Huge pages: address bits below the page size (except PAT, bit 12) are reserved.
    if (leafHere && level < 3) {
      const lowMask = (pageSize - 1) & ~0x1fff; // bits (shift-1):13
      if ((lo & lowMask) !== 0) throw walkFault(va, access, user, true, true);
    }
    allowUser = allowUser && (lo & PTE_US) !== 0;
    allowWrite = allowWrite && (lo & PTE_RW) !== 0;
    nx = nx || (hi & PTE_HI_NX) !== 0;
    const addr = (hi & 0xfffff) * TWO32 + ((lo >>> 12) << 12 >>> 0);
    if (leafHere) {
      if (lo & PTE_G) global = true;
      if (!accessAllowed(access, user, wp, allowUser, allowWrite, nx)) throw walkFault(va, access, user, true, false);
      let newLo = lo | PTE_A;
      if (access === 'w') newLo |= PTE_D;
      if (newLo !== lo) port.physStore32(entryPa, newLo >>> 0);
      const base = Math.floor(addr / pageSize) * pageSize;
      const within = va - Math.floor(va / pageSize) * pageSize - ((va >>> 0) & 4095); // va % pageSize - va % 4096
      const physPage = port.stage2(base + within, access, true);
      let flags = (allowUser ? TLB_USER : 0) | (allowWrite ? TLB_WRITE : 0) | (nx ? TLB_NX : 0) | (global ? TLB_GLOBAL : 0);
      if (newLo & PTE_D) flags |= TLB_DIRTY;
      return { physPage, flags, pageSize, levels: level + 1 - first };
    }
    if (!(lo & PTE_A)) port.physStore32(entryPa, (lo | PTE_A) >>> 0);
    if (level === 2 && pde !== null) {
      pde.insert(root, va, addr, (allowUser ? TLB_USER : 0) | (allowWrite ? TLB_WRITE : 0) | (nx ? TLB_NX : 0));
    }
    table = addr;
  }
  /* c8 ignore next */
  throw new Error('walk: unreachable');
}

/**
 * Permission check shared by the walk and TLB hits (SDM §4.6): whether the access is
 * allowed. A refusal is a #PF with P set (a protection fault), never a reserved bit.
 */
export function accessAllowed(access: Access, user: boolean, wp: boolean, allowUser: boolean,
  allowWrite: boolean, nx: boolean): boolean {
  if (user && !allowUser) return false;
  if (access === 'w' && !allowWrite && (user || wp)) return false;
  return !(access === 'x' && nx);
}
