/**
 * EPT: the second-stage walk from guest-physical to host-physical addresses (SDM Vol. 3C
 * §29.3). Four levels (PML4E, PDPTE, PDE, PTE), GPA bits 47:39, 38:30, 29:21, 20:12.
 *
 * MKTME (spec rev 1.3, "MKTME and virtualization"): the EPTP and every EPT entry hold a
 * host-physical address whose upper bits are the KeyID, so each level's table is read
 * through the caches under the KeyID of the entry (or EPTP) that points to it, and the
 * leaf's KeyID is the final page's. Reserved-bit checks use the *unreduced* MAXPHYADDR:
 * KeyID bits are address bits, never reserved.
 *
 * Entry bits (lo half): R 0, W 1, X 2, memory type 5:3 (leaf), IPAT 6, large page 7
 * (PDPTE/PDE), A 8, D 9 (leaf); address N-1:12; hi-half bits 51:N reserved.
 * Misconfiguration (exit 49): W without R (010b, 110b), leaf memory type 2, 3 or 7, any
 * reserved bit (51:N everywhere; 7:3 in a PML4E; 6:3 in a non-leaf PDPTE/PDE; 29:12 in
 * a 1 GiB leaf; 20:12 in a 2 MiB leaf). Execute-only (100b) is legal: this CPU reports
 * IA32_VMX_EPT_VPID_CAP bit 0. Violation (exit 48): a not-present entry (RWX = 000) or
 * an access its permissions do not allow.
 */
import {
  EPT_VIOLATION_ACC_INSTR, EPT_VIOLATION_ACC_READ, EPT_VIOLATION_ACC_WRITE,
  EXIT_REASON_EPT_MISCONFIG, EXIT_REASON_EPT_VIOLATION, VMX_EPT_ACCESS_BIT,
  VMX_EPT_DIRTY_BIT, VMX_EPT_LARGE_PAGE,
} from '../isa.js';
import { LEVEL_SIZE, reservedHighBits, type Access } from '../mmu.js';
import type { PhysPort } from './vmcs.js';

const TWO32 = 4294967296;
/** The entry an EPT walk step loaded (PhysPort.phys64). */
const entry = new Uint32Array(2);
const GPA_LIMIT = 2 ** 48;

/** An EPT walk that ends in a VM exit; `qual` has bits 0-5 of the exit qualification. */
export class EptExit {
  constructor(readonly reason: number, readonly qual: number, readonly gpa: number) {}
}

export interface EptTranslation {
  /** Host-physical address of the 4 KiB piece holding the GPA, KeyID bits included. */
  hpa: number;
  /** RWX allowed by every level (AND), bits 0-2. */
  perms: number;
  pageSize: number;
}

/** EPTP checks done at VM entry (SDM §27.2.1.1): memory type UC or WB, walk length 4,
 *  bits 11:7 zero (no supervisor shadow-stack control here), bits 63:N zero. */
export function eptpValid(eptp: number, maxPhysAddr: number): boolean {
  if (!Number.isSafeInteger(eptp) || eptp < 0 || eptp >= 2 ** maxPhysAddr) return false;
  const lo = eptp % 4096;
  const mt = lo & 7;
  if (mt !== 0 && mt !== 6) return false;
  if (((lo >>> 3) & 7) !== 3) return false;
  return (lo & 0xf80) === 0;
}

export function eptRoot(eptp: number): number { return eptp - (eptp % 4096); }
function eptAdEnabled(eptp: number): boolean { return (eptp & 0x40) !== 0; }

function accessBits(access: Access): number {
  return access === 'w' ? EPT_VIOLATION_ACC_WRITE : access === 'x' ? EPT_VIOLATION_ACC_INSTR : EPT_VIOLATION_ACC_READ;
}

/** The VM exit for a misconfigured EPT entry met translating `gpa`. */
function misconfig(gpa: number): EptExit {
  return new EptExit(EXIT_REASON_EPT_MISCONFIG, 0, gpa);
}

/**
 * Translate `gpa` for `access` through the EPT rooted at `eptp`. `pagingStructure` says
 * the access reads a guest paging-structure entry (with A/D enabled such accesses count
 * as writes for the dirty flag, SDM §29.3.5). Throws EptExit.
 */
export function eptWalk(port: PhysPort, eptp: number, gpa: number, access: Access,
  pagingStructure: boolean, maxPhysAddr: number): EptTranslation {
  const reservedHi = reservedHighBits(maxPhysAddr);
  const ad = eptAdEnabled(eptp);
  let table = eptRoot(eptp);
  let perms = 7;
  const acc = accessBits(access);
  if (gpa >= GPA_LIMIT) throw new EptExit(EXIT_REASON_EPT_VIOLATION, acc, gpa);
  for (let level = 0; level < 4; level++) {
    const index = (Math.floor(gpa / LEVEL_SIZE[level]) >>> 0) & 511; // % 512, exact: 512 divides 2^32
    const entryPa = table + index * 8;
    port.phys64(entryPa, entry);
    const lo = entry[0], hi = entry[1];
    const rwx = lo & 7;
    if (rwx === 0) throw new EptExit(EXIT_REASON_EPT_VIOLATION, acc, gpa);
    if ((rwx & 3) === 2) throw misconfig(gpa);                  // write without read
    if (hi & reservedHi) throw misconfig(gpa);
    const large = level > 0 && level < 3 && (lo & VMX_EPT_LARGE_PAGE) !== 0;
    const leaf = level === 3 || large;
    if (level === 0 && (lo & 0xf8)) throw misconfig(gpa);       // PML4E bits 7:3
    if (!leaf && level > 0 && (lo & 0x78)) throw misconfig(gpa); // non-leaf bits 6:3
    if (leaf) {
      const mt = (lo >>> 3) & 7;
      if (mt === 2 || mt === 3 || mt === 7) throw misconfig(gpa);
      if (level === 1 && (lo & 0x3ffff000)) throw misconfig(gpa); // 1 GiB: bits 29:12
      if (level === 2 && (lo & 0x1ff000)) throw misconfig(gpa);   // 2 MiB: bits 20:12
    }
    perms &= rwx;
    const addr = (hi & 0xfffff) * TWO32 + ((lo >>> 12) << 12 >>> 0);
    if (leaf) {
      const need = access === 'w' ? 2 : access === 'x' ? 4 : 1;
      if (!(perms & need)) throw new EptExit(EXIT_REASON_EPT_VIOLATION, acc | (perms << 3), gpa);
      if (ad) {
        let nlo = lo | VMX_EPT_ACCESS_BIT;
        if (access === 'w' || pagingStructure) nlo |= VMX_EPT_DIRTY_BIT;
        if (nlo !== lo) port.physStore32(entryPa, nlo >>> 0);
      }
      const size = LEVEL_SIZE[level];
      // gpa % size - gpa % 4096, and addr rounded down to size, without floating-point remainders.
      const within = gpa - Math.floor(gpa / size) * size - ((gpa >>> 0) & 4095);
      return { hpa: Math.floor(addr / size) * size + within, perms, pageSize: size };
    }
    if (ad && !(lo & VMX_EPT_ACCESS_BIT)) port.physStore32(entryPa, (lo | VMX_EPT_ACCESS_BIT) >>> 0);
    table = addr;
  }
  /* c8 ignore next */
  throw new Error('eptWalk: unreachable');
}
